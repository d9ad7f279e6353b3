"""Hypothesis strategies for every protocol v1 message."""

import unicodedata

from hypothesis import strategies as st

from fleet.protocol import messages as m

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
u64 = st.integers(0, 2**64 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)
f32 = st.floats(width=32, allow_nan=False)
sha = st.binary(min_size=32, max_size=32)
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)
name = text.filter(lambda s: len(s.encode()) <= m.MAX_NAME)
blob = st.binary(max_size=600)
c_name = text.filter(lambda s: len(s.encode()) <= m.MAX_NAME and not any(unicodedata.category(c) == "Cc" for c in s))

slot_info = st.builds(m.SlotInfo, u8, u32, u32, sha, name, name)
two_slots = st.tuples(slot_info, slot_info)

MESSAGES = {
    m.Hello: st.builds(m.Hello, u8, u16),
    m.Info: st.builds(m.Info, u8, u8, u16, u32, u32, u32, u32, u32, st.binary(max_size=m.MAX_UID), name, name, two_slots),
    m.Ping: st.builds(m.Ping, blob),
    m.Pong: st.builds(m.Pong, u64, blob),
    m.StreamConfig: st.builds(m.StreamConfig, u8, u8, u16, u16, u8),
    m.StreamConfigAck: st.builds(m.StreamConfigAck, u8, u8, u16, u16, u8),
    m.Reboot: st.builds(m.Reboot, u8),
    m.RebootAck: st.just(m.RebootAck()),
    m.Runtime: st.just(m.Runtime()),
    m.RuntimeInfo: st.builds(
        m.RuntimeInfo, c_name,
        st.lists(u16.filter(lambda c: c != m.CUSTOM_OPERATOR), unique=True, max_size=300).map(tuple),
        st.lists(c_name.filter(bool), unique=True, max_size=20).map(tuple),
    ),  # fmt: skip
    m.ModelBegin: st.builds(m.ModelBegin, u8, u32, sha, name, name),
    m.BeginAck: st.builds(m.BeginAck, u8, u32),
    m.ModelChunk: st.builds(m.ModelChunk, u32, blob),
    m.ChunkAck: st.builds(m.ChunkAck, u32),
    m.ModelCommit: st.builds(m.ModelCommit, u8),
    m.CommitAck: st.builds(m.CommitAck, u8, u32),
    m.ModelActivate: st.builds(m.ModelActivate, u8, u8),
    m.ActivateAck: st.builds(m.ActivateAck, u8, two_slots),
    m.ModelConfirm: st.builds(m.ModelConfirm, u8),
    m.ConfirmAck: st.builds(m.ConfirmAck, u8, two_slots),
    m.ModelRollback: st.just(m.ModelRollback()),
    m.RollbackAck: st.builds(m.RollbackAck, u8, two_slots),
    m.InferResult: st.builds(m.InferResult, u64, u32, u32, u32, st.binary(min_size=4, max_size=4), u8, u8, f32, i32, blob),
    m.Power: st.builds(m.Power, u64, u16, u32, u64),
    m.Log: st.builds(m.Log, u64, u8, text),
    m.Boot: st.builds(m.Boot, u8, u32),
    m.Error: st.builds(m.Error, u16, u32, text),
}

any_message = st.one_of(*MESSAGES.values())
