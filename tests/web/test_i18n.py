"""Every string the pages show has its Chinese translation."""
from web import i18n


def test_every_interface_string_is_translated_to_chinese():
    gaps = i18n.missing()
    assert not gaps, "untranslated (add to the package's translations/zh/.../messages.po):\n" + \
        "\n".join(f"{where[0]}: {msgid!r}" for msgid, where in sorted(gaps.items()))


def test_catalogues_compile(tmp_path):
    assert i18n.compile_all() >= 2
