import pandas as pd
import pytest

from riskkit.privacy import mask_frame, mask_id_number, mask_name, mask_phone, mask_text


def test_field_masks():
    assert mask_id_number("11010119900307123X") == "110***********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ID 110101199003071234 tel 13812345678", "ID 110***********1234 tel 138****5678"),
        ("身份证110101199003071234，电话13812345678", "身份证110***********1234，电话138****5678"),
        ("借款人11010119900307123X联系", "借款人110***********123X联系"),
        ("tel +8613812345678.", "tel +86138****5678."),
        ("电话 138-1234-5678 或 138 1234 5678", "电话 138****5678 或 138****5678"),
        # not personal data: amounts, dates, longer digit runs stay as they are
        ("贷款金额 100000.00 元，2026-10-31", "贷款金额 100000.00 元，2026-10-31"),
        ("account 123456789012345678901", "account 123456789012345678901"),
    ],
)
def test_mask_text_inside_chinese_and_formatted(text, expected):
    assert mask_text(text) == expected


def test_mask_frame_masks_known_columns_only():
    df = pd.DataFrame(
        {
            "name": ["李四"],
            "id_number": ["110101199003071234"],
            "phone": ["13912345678"],
            "loan_id": ["L1"],
        }
    )
    out = mask_frame(df)
    assert out.iloc[0].tolist() == ["李*", "110***********1234", "139****5678", "L1"]
    assert df.iloc[0, 1] == "110101199003071234"  # input untouched
