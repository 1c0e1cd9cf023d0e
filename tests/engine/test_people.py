"""Sign-in passwords, people and the organisations a person may see."""
import pytest

from engine import passwords
from engine.errors import PermissionDenied, ValidationError


def test_hash_is_salted_and_verifies():
    one, two = passwords.hash_password("abc12345"), passwords.hash_password("abc12345")
    assert one != two and one.startswith("scrypt$")
    assert passwords.verify_password(one, "abc12345")
    assert not passwords.verify_password(one, "abc12346")
    assert not passwords.verify_password("garbage", "abc12345")
    assert not passwords.verify_password(None, "abc12345")


def test_admin_sets_a_password_and_the_person_signs_in(org):
    org.set_password("zhang", "cun2026ok", by="admin")
    assert org.authenticate("zhang", "cun2026ok").username == "zhang"
    assert org.authenticate("zhang", "wrong-one1") is None
    assert org.authenticate("nobody", "cun2026ok") is None
    assert org.person("zhang").can_sign_in
    assert any(e.action == "person.password_set" for e in _audit(org))


def test_a_person_changes_their_own_password_with_the_current_one(org):
    org.set_password("li", "first-pass1", by="admin")
    with pytest.raises(ValidationError) as err:
        org.set_password("li", "second-pass2", by="li", current="wrong")
    assert "current" in err.value.fields
    org.set_password("li", "second-pass2", by="li", current="first-pass1")
    assert org.authenticate("li", "second-pass2")


def test_weak_passwords_and_strangers_are_refused(org):
    with pytest.raises(ValidationError):
        org.set_password("li", "short1", by="admin")
    with pytest.raises(ValidationError):
        org.set_password("li", "onlyletters", by="admin")
    with pytest.raises(PermissionDenied):
        org.set_password("li", "good-pass1", by="wang")


def test_a_deactivated_person_cannot_sign_in(org):
    org.set_password("wang", "cun2026ok", by="admin")
    org.set_active("wang", False, by="admin")
    assert org.authenticate("wang", "cun2026ok") is None


def test_visible_organisations_follow_the_tree(org):
    assert [o.code for o in org.organisations("zhang")] == ["v1"]
    assert {o.code for o in org.organisations("sun")} == {"t1", "t1-dc", "v1", "v2"}
    # an office acts for its town
    assert {o.code for o in org.organisations("qian")} == {"t1", "t1-dc", "v1", "v2"}
    assert len(org.organisations("admin")) == 5


def test_revoke_role(org):
    org.revoke_role("li", "cadre", "v1", by="admin")
    assert org.person("li").roles == ()


def _audit(org):
    from engine.models import AuditEvent
    from sqlalchemy import select

    with org.sessions() as s:
        return list(s.execute(select(AuditEvent)).scalars())
