"""`UserExecutionContext`: immutable, value-like, and ids that never repeat."""

from __future__ import annotations

import copy
import pickle
import random

import pytest

from toolwire.services.context import UserExecutionContext, new_id


def test_contexts_are_immutable_and_compare_by_value() -> None:
    ctx = UserExecutionContext.for_user("ada", thread_id="t_1", request_id="q_1")
    with pytest.raises(AttributeError):
        ctx.user_id = "mallory"  # type: ignore[misc]  # mypy refuses it too
    with pytest.raises(AttributeError):
        ctx.scopes = frozenset({"admin"})  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del ctx.run_id
    same = UserExecutionContext("ada", "t_1", ctx.run_id, "q_1")
    assert same == ctx and hash(same) == hash(ctx)
    assert pickle.loads(pickle.dumps(ctx)) == ctx == copy.deepcopy(ctx)
    assert ctx != UserExecutionContext.for_user("ada", thread_id="t_1", request_id="q_1")


def test_given_ids_are_kept_and_missing_ones_generated() -> None:
    ctx = UserExecutionContext.for_user("ada", thread_id="t_mine")
    assert ctx.thread_id == "t_mine"
    assert ctx.run_id.startswith("r_") and ctx.request_id.startswith("q_")
    assert len({ctx.thread_id, ctx.run_id, ctx.request_id}) == 3


@pytest.mark.parametrize("user_id", ["", None, 5])
def test_the_user_must_be_a_non_empty_string(user_id: object) -> None:
    with pytest.raises(ValueError, match="user_id"):
        UserExecutionContext.for_user(user_id)  # type: ignore[arg-type]


def test_seeding_the_global_random_never_repeats_an_id() -> None:
    random.seed(1234)  # what hypothesis does before every example
    first = (new_id("r"), UserExecutionContext.for_user("ada").run_id)
    random.seed(1234)
    second = (new_id("r"), UserExecutionContext.for_user("ada").run_id)
    assert not set(first) & set(second)


def test_scopes_are_a_frozen_set_that_takes_part_in_equality() -> None:
    ctx = UserExecutionContext.for_user("ada", scopes=["billing", "admin", "billing"])
    assert ctx.scopes == frozenset({"billing", "admin"})
    assert UserExecutionContext.for_user("ada").scopes == frozenset()
    copied = pickle.loads(pickle.dumps(ctx))
    assert copied == ctx and copied.scopes == ctx.scopes
    same_ids = UserExecutionContext("ada", ctx.thread_id, ctx.run_id, ctx.request_id)
    assert same_ids != ctx
    assert "scopes=['admin', 'billing']" in repr(ctx)


@pytest.mark.parametrize("scopes", ["admin", [1]])
def test_scopes_must_be_a_collection_of_strings(scopes: object) -> None:
    with pytest.raises(ValueError, match="scopes"):
        UserExecutionContext.for_user("ada", scopes=scopes)  # type: ignore[arg-type]
