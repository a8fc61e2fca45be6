"""Django's ``tests/delete/tests.py``, translated to the runtime: same scenarios,
same expected values, written anew. Query counts are of data statements, as
Django's assertNumQueries counts them inside a TestCase; where Django computes a
count from its backend's batch sizes, the runtime's own batch sizes stand in.
``A`` keeps the foreign keys whose ``on_delete`` the runtime has; Django's
intermediate models ``MR`` and ``MRNull`` are plain models with two foreign keys.

Not expressible with the runtime's API, and what is missing:

- ``test_setvalue``, ``test_setdefault``, ``test_setdefault_none``: ``SET(...)`` and
  ``SET_DEFAULT``.
- ``test_do_nothing``, ``test_do_nothing_qscount``: ``DO_NOTHING``.
- ``test_restrict``, ``test_restrict_multiple``, ``test_restrict_path_cascade_indirect``,
  ``test_restrict_path_cascade_direct``, ``test_restrict_path_cascade_indirect_diamond``,
  ``test_restrict_gfk_no_fast_delete``: ``RESTRICT`` (and generic foreign keys).
- ``test_inheritance_cascade_up``, ``test_inheritance_cascade_down``,
  ``test_cascade_from_child``, ``test_cascade_from_parent``, ``test_setnull_from_child``,
  ``test_setnull_from_parent``, ``test_deletion_order``, ``test_delete_with_keeping_parents``,
  ``test_delete_with_keeping_parents_relationships``, ``test_fast_delete_inheritance``:
  model inheritance (``RChild(R)``).
- ``test_proxied_model_duplicate_queries``: proxy models.
- ``test_sliced_queryset``: slicing a QuerySet.
- ``test_only_referenced_fields_selected``, ``test_fast_delete_combined_relationships``:
  ``only()`` and ``to_field``.
- ``test_fast_delete_joined_qs``, ``test_fast_delete_empty_no_update_can_self_select``:
  lookups across relations (``avatar__desc``).
- ``test_fast_delete_aggregation``: ``annotate()`` and ``Count``.
- ``test_fast_delete_full_match``: ``Q`` objects.
- ``test_cannot_defer_constraint_checks``: Django skips it on SQLite, which defers
  constraint checks (``test_can_defer_constraint_checks`` below is its SQLite twin).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from hosthooks import hookimpl
from hosthooks.runtime import Model
from hosthooks.runtime import ProtectedError
from hosthooks.runtime import fields
from hosthooks.runtime.deletion import PARAMETERS_PER_STATEMENT
from hosthooks.runtime.deletion import ROWS_PER_DELETE
from hosthooks.runtime.deletion import Collector


class P(Model):
    pass


class R(Model):
    is_default = fields.Boolean(default=False)
    p = fields.ForeignKey(P, on_delete=fields.CASCADE, null=True)


class S(Model):
    r = fields.ForeignKey(R, on_delete=fields.CASCADE)


class T(Model):
    s = fields.ForeignKey(S, on_delete=fields.CASCADE)


class U(Model):
    t = fields.ForeignKey(T, on_delete=fields.CASCADE)


class A(Model):
    name = fields.Text()
    auto = fields.ForeignKey(R, on_delete=fields.CASCADE, related_name="auto_set")
    auto_nullable = fields.ForeignKey(
        R, on_delete=fields.CASCADE, null=True, related_name="auto_nullable_set"
    )
    setnull = fields.ForeignKey(R, on_delete=fields.SET_NULL, null=True, related_name="setnull_set")
    cascade = fields.ForeignKey(R, on_delete=fields.CASCADE, related_name="cascade_set")
    cascade_nullable = fields.ForeignKey(
        R, on_delete=fields.CASCADE, null=True, related_name="cascade_nullable_set"
    )
    protect = fields.ForeignKey(R, on_delete=fields.PROTECT, null=True, related_name="protect_set")
    cascade_p = fields.ForeignKey(
        P, on_delete=fields.CASCADE, related_name="cascade_p_set", null=True
    )
    # Django's is a OneToOneField: a unique foreign key, deleted the same way.
    o2o_setnull = fields.ForeignKey(
        R, on_delete=fields.SET_NULL, null=True, related_name="o2o_nullable_set"
    )


class B(Model):
    protect = fields.ForeignKey(R, on_delete=fields.PROTECT)


def create_a(name: str) -> A:
    a = A(name=name)
    for field in (
        "auto",
        "auto_nullable",
        "setnull",
        "cascade",
        "cascade_nullable",
        "protect",
        "o2o_setnull",
    ):
        setattr(a, field, R.objects.create())
    a.save()
    return a


class M(Model):
    m2m = fields.ManyToMany(R, related_name="m_set")


class MR(Model):
    m = fields.ForeignKey(M, on_delete=fields.CASCADE)
    r = fields.ForeignKey(R, on_delete=fields.CASCADE)


class MRNull(Model):
    m = fields.ForeignKey(M, on_delete=fields.CASCADE)
    r = fields.ForeignKey(R, on_delete=fields.SET_NULL, null=True)


class Avatar(Model):
    desc = fields.Text(null=True)


class User(Model):
    avatar = fields.ForeignKey(Avatar, on_delete=fields.CASCADE, null=True)


class HiddenUser(Model):
    r = fields.ForeignKey(R, on_delete=fields.CASCADE, related_name="+")


class HiddenUserProfile(Model):
    user = fields.ForeignKey(HiddenUser, on_delete=fields.CASCADE)


class M2MTo(Model):
    pass


class M2MFrom(Model):
    m2m = fields.ManyToMany(M2MTo)


M2M_THROUGH = M.m2m.relation.through
MODELS = [
    P,
    R,
    S,
    T,
    U,
    A,
    B,
    M,
    M2M_THROUGH,
    MR,
    MRNull,
    Avatar,
    User,
    HiddenUser,
    HiddenUserProfile,
    M2MTo,
    M2MFrom,
    M2MFrom.m2m.relation.through,
]


# -- on_delete --------------------------------------------------------------


def test_auto(db):
    a = create_a("auto")
    a.auto.delete()
    assert not A.objects.filter(name="auto").exists()


def test_non_callable(db):
    with pytest.raises(TypeError, match="on_delete must be one of CASCADE, PROTECT, SET_NULL"):
        fields.ForeignKey(P, on_delete=None)  # type: ignore[arg-type]


def test_auto_nullable(db):
    a = create_a("auto_nullable")
    a.auto_nullable.delete()
    assert not A.objects.filter(name="auto_nullable").exists()


def test_setnull(db):
    a = create_a("setnull")
    a.setnull.delete()
    a = A.objects.get(pk=a.pk)
    assert a.setnull is None


def test_cascade(db):
    a = create_a("cascade")
    a.cascade.delete()
    assert not A.objects.filter(name="cascade").exists()


def test_cascade_nullable(db):
    a = create_a("cascade_nullable")
    a.cascade_nullable.delete()
    assert not A.objects.filter(name="cascade_nullable").exists()


def test_protect(db):
    a = create_a("protect")
    with pytest.raises(
        ProtectedError, match=r"referenced through protected foreign keys: 'A\.protect'\.$"
    ) as caught:
        a.protect.delete()
    assert caught.value.protected_objects == {a}


def test_protect_multiple(db):
    a = create_a("protect")
    b = B.objects.create(protect=a.protect)
    with pytest.raises(
        ProtectedError, match=r"foreign keys: 'A\.protect', 'B\.protect'\.$"
    ) as caught:
        a.protect.delete()
    assert caught.value.protected_objects == {a, b}


def test_protect_path(db):
    a = create_a("protect")
    a.protect.p = P.objects.create()
    a.protect.save()
    with pytest.raises(ProtectedError, match=r"model 'P' .* foreign keys: 'R\.p'\.$") as caught:
        a.protect.p.delete()
    assert caught.value.protected_objects == {a}


def test_o2o_setnull(db):
    a = create_a("o2o_setnull")
    a.o2o_setnull.delete()
    a = A.objects.get(pk=a.pk)
    assert a.o2o_setnull is None


# -- deletion -----------------------------------------------------------------


def test_pk_none(db):
    m = M()
    with pytest.raises(ValueError, match="M cannot be deleted: it has no primary key"):
        m.delete()


def test_m2m(db):
    m = M.objects.create()
    r = R.objects.create()
    MR.objects.create(m=m, r=r)
    r.delete()
    assert not MR.objects.exists()

    r = R.objects.create()
    MR.objects.create(m=m, r=r)
    m.delete()
    assert not MR.objects.exists()

    m = M.objects.create()
    r = R.objects.create()
    m.m2m.add(r)
    r.delete()
    assert not M2M_THROUGH.objects.exists()

    r = R.objects.create()
    m.m2m.add(r)
    m.delete()
    assert not M2M_THROUGH.objects.exists()

    m = M.objects.create()
    r = R.objects.create()
    MRNull.objects.create(m=m, r=r)
    r.delete()
    assert MRNull.objects.exists()
    # Django's m.m2m_through_null.exists(): no R is related through MRNull any more.
    assert not MRNull.objects.filter(m=m).exclude(r=None).exists()


def test_bulk(db, queries):
    s = S.objects.create(r=R.objects.create())
    for _ in range(2 * ROWS_PER_DELETE):
        T.objects.create(s=s)
    # Select the T rows, fast-delete their U rows, delete the T rows in two
    # batches, then s.
    with queries() as sent:
        s.delete()
    assert len(sent) == 5
    assert not S.objects.exists()


def test_instance_update(db, default_host):
    deleted: list[Any] = []
    related_setnull_sets: list[list[Any]] = []

    class Recorder:
        @hookimpl
        def pre_delete(self, instance: Any) -> None:
            deleted.append(instance)
            if isinstance(instance, R):
                related_setnull_sets.append([a.pk for a in A.objects.filter(setnull=instance)])

    default_host.register(Recorder())
    a = create_a("update_setnull")
    a.setnull.delete()
    a = create_a("update_cascade")
    a.cascade.delete()
    assert deleted
    for obj in deleted:
        assert obj.pk is None
    assert [pks for pks in related_setnull_sets if pks]
    for pk_list in related_setnull_sets:
        for a in A.objects.filter(id__in=pk_list):
            assert a.setnull is None


def test_relational_post_delete_signals_happen_before_parent_object(db, default_host):
    deletions = []

    class Receiver:
        @hookimpl(sender=S)
        def post_delete(self, instance: Any) -> None:
            assert R.objects.filter(pk=instance.r_id).exists()
            assert type(instance) is S
            deletions.append(instance.id)

    r = R.objects.create()
    s = S.objects.create(r=r)
    s_id = s.pk
    default_host.register(Receiver())
    r.delete()
    assert deletions == [s_id]


def test_can_defer_constraint_checks(db, default_host, queries):
    u = User.objects.create(avatar=Avatar.objects.create())
    a = Avatar.objects.get(pk=u.avatar_id)
    calls = []

    class Noop:
        # Listening makes the users' deletion slow (loaded, hooked), not a fast delete.
        @hookimpl(sender=User)
        def post_delete(self) -> None:
            calls.append("")

    default_host.register(Noop())
    # Find the users, delete the user, delete the avatar: no UPDATE nulling the
    # reference, since SQLite checks the constraint at commit.
    with queries() as sent:
        a.delete()
    assert len(sent) == 3
    assert not User.objects.exists()
    assert not Avatar.objects.exists()
    assert len(calls) == 1


def test_hidden_related(db):
    r = R.objects.create()
    h = HiddenUser.objects.create(r=r)
    HiddenUserProfile.objects.create(user=h)
    r.delete()
    assert HiddenUserProfile.objects.count() == 0


def test_large_delete(db, queries):
    size = 2000
    Avatar.objects.bulk_create([Avatar() for _ in range(size)])
    # Load the avatars, fast-delete their users in batches of parameters, then
    # delete the avatars in batches of rows.
    expected = 1 + math.ceil(size / PARAMETERS_PER_STATEMENT) + math.ceil(size / ROWS_PER_DELETE)
    with queries() as sent:
        Avatar.objects.all().delete()
    assert len(sent) == expected
    assert not Avatar.objects.exists()


def test_large_delete_related(db, queries):
    size = 2000
    s = S.objects.create(r=R.objects.create())
    for _ in range(size):
        T.objects.create(s=s)
    # Load the T rows, fast-delete their U rows in batches of parameters,
    # delete the T rows in batches of rows, then s.
    expected = (
        1 + math.ceil(size / PARAMETERS_PER_STATEMENT) + math.ceil(size / ROWS_PER_DELETE) + 1
    )
    with queries() as sent:
        s.delete()
    assert len(sent) == expected
    assert not S.objects.exists()
    assert not T.objects.exists()


def test_queryset_delete_returns_num_rows(db):
    Avatar.objects.bulk_create([Avatar(desc="a"), Avatar(desc="b"), Avatar(desc="c")])
    avatars_count = Avatar.objects.count()
    deleted, _ = Avatar.objects.all().delete()
    assert deleted == avatars_count

    r = R.objects.create()
    h1 = HiddenUser.objects.create(r=r)
    HiddenUser.objects.create(r=r)
    HiddenUserProfile.objects.create(user=h1)
    existed_objs = {
        R._meta.label: R.objects.count(),
        HiddenUser._meta.label: HiddenUser.objects.count(),
        HiddenUserProfile._meta.label: HiddenUserProfile.objects.count(),
    }
    deleted, deleted_objs = R.objects.all().delete()
    assert deleted_objs == existed_objs
    assert deleted == sum(existed_objs.values())


def test_model_delete_returns_num_rows(db):
    r = R.objects.create()
    h1 = HiddenUser.objects.create(r=r)
    h2 = HiddenUser.objects.create(r=r)
    HiddenUser.objects.create(r=r)
    HiddenUserProfile.objects.create(user=h1)
    HiddenUserProfile.objects.create(user=h2)
    m1 = M.objects.create()
    m2 = M.objects.create()
    MR.objects.create(r=r, m=m1)
    r.m_set.add(m1)
    r.m_set.add(m2)
    r.save()
    existed_objs = {
        R._meta.label: R.objects.count(),
        HiddenUser._meta.label: HiddenUser.objects.count(),
        MR._meta.label: MR.objects.count(),
        HiddenUserProfile._meta.label: HiddenUserProfile.objects.count(),
        M2M_THROUGH._meta.label: M2M_THROUGH.objects.count(),
    }
    deleted, deleted_objs = r.delete()
    assert deleted == sum(existed_objs.values())
    assert deleted_objs == existed_objs


# -- fast deletes ---------------------------------------------------------------


def test_fast_delete_all(db, queries):
    with queries() as sent:
        User.objects.all().delete()
    assert len(sent) == 1
    assert "SELECT" not in sent[0]


def test_fast_delete_fk(db, queries):
    u = User.objects.create(avatar=Avatar.objects.create())
    a = Avatar.objects.get(pk=u.avatar_id)
    # Fast-delete the user, delete the avatar.
    with queries() as sent:
        a.delete()
    assert len(sent) == 2
    assert not User.objects.exists()
    assert not Avatar.objects.exists()


def test_fast_delete_m2m(db, queries):
    t = M2MTo.objects.create()
    f = M2MFrom.objects.create()
    f.m2m.add(t)
    # Delete f, fast-delete its relation rows.
    with queries() as sent:
        f.delete()
    assert len(sent) == 2


def test_fast_delete_revm2m(db, queries):
    t = M2MTo.objects.create()
    f = M2MFrom.objects.create()
    f.m2m.add(t)
    with queries() as sent:
        f.delete()
    assert len(sent) == 2


def test_fast_delete_qs(db, queries):
    u1 = User.objects.create()
    u2 = User.objects.create()
    with queries() as sent:
        User.objects.filter(pk=u1.pk).delete()
    assert len(sent) == 1
    assert User.objects.count() == 1
    assert User.objects.filter(pk=u2.pk).exists()


def test_fast_delete_instance_set_pk_none(db):
    u = User.objects.create()
    # Users can be fast-deleted.
    assert Collector("default", origin=u).can_fast_delete(User)
    u.delete()
    assert u.pk is None


def test_fast_delete_large_batch(db, queries):
    User.objects.bulk_create([User() for _ in range(2000)])
    # Nothing cascades: one statement, whatever the number of rows.
    with queries() as sent:
        User.objects.all().delete()
    assert len(sent) == 1
    a = Avatar.objects.create(desc="a")
    User.objects.bulk_create([User(avatar=a) for _ in range(2000)])
    # One statement for the users of a (one parameter), one for a.
    with queries() as sent:
        a.delete()
    assert len(sent) == 2
    assert User.objects.count() == 0


def test_fast_delete_empty_result_set(db, queries):
    user = User.objects.create()
    with queries() as sent:
        assert User.objects.filter(pk__in=[]).delete() == (0, {})
    assert sent == []
    assert list(User.objects.all()) == [user]
