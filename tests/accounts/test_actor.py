"""cinema.accounts.actor: role checks services make, and the operator/system actors."""

from __future__ import annotations

import pytest

from cinema.accounts.actor import (
    OPERATOR,
    SYSTEM,
    CurrentUser,
    GroupName,
    require_group,
    require_self_or_group,
)
from cinema.accounts.errors import RoleRequired
from cinema.errors import PermissionDenied


def _user(group: GroupName, user_id: int = 7) -> CurrentUser:
    return CurrentUser(id=user_id, email=f"u{user_id}@example.com", group=group, session_id="s")


def test_require_group_passes_at_or_above_the_role() -> None:
    require_group(_user(GroupName.MODERATOR), GroupName.MODERATOR)
    require_group(_user(GroupName.ADMIN), GroupName.MODERATOR)
    require_group(_user(GroupName.USER), GroupName.USER)


def test_require_group_below_the_role_is_permission_denied_naming_the_role() -> None:
    with pytest.raises(RoleRequired) as caught:
        require_group(_user(GroupName.MODERATOR), GroupName.ADMIN)
    assert isinstance(caught.value, PermissionDenied)
    assert caught.value.status_code == 403
    assert caught.value.code == "permission_denied"
    assert caught.value.extra == {"required_group": "ADMIN"}


def test_require_self_or_group() -> None:
    require_self_or_group(_user(GroupName.USER, 7), 7, GroupName.MODERATOR)
    require_self_or_group(_user(GroupName.MODERATOR, 7), 8, GroupName.MODERATOR)
    with pytest.raises(RoleRequired):
        require_self_or_group(_user(GroupName.USER, 7), 8, GroupName.MODERATOR)


@pytest.mark.parametrize("actor", [OPERATOR, SYSTEM])
def test_operator_and_system_are_admins_that_own_nothing(actor: CurrentUser) -> None:
    assert actor.group is GroupName.ADMIN
    require_group(actor, GroupName.ADMIN)
    assert not actor.is_user
    assert actor.id == 0
    assert not actor.is_self(0)
    assert not actor.is_self(1)
