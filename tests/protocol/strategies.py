"""Hypothesis strategies for every protocol v1 message.

Messages a board sends are drawn within PROTOCOL.md's limits (decoding refuses anything
else: tests/hostile/test_decode_limits.py), and text is printable (decoding escapes control
characters: fleet.printable), so every message drawn here survives a round trip."""

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
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), max_size=120)
name = text.filter(lambda s: len(s.encode()) <= m.MAX_NAME)
blob = st.binary(max_size=600)
c_name = text.filter(lambda s: len(s.encode()) <= m.MAX_NAME and not any(unicodedata.category(c) == "Cc" for c in s))

slot_state = st.sampled_from(list(m.SlotState))
active_slot = st.sampled_from([0, 1, m.NO_SLOT])


@st.composite
def slot_info(draw, max_size: int = 0xFFFFFFFF) -> m.SlotInfo:
    size = draw(st.integers(0, max_size))
    return m.SlotInfo(draw(slot_state), size, draw(st.integers(0, size)), draw(sha), draw(name), draw(name))


two_slots = st.tuples(slot_info(), slot_info())


@st.composite
def info(draw) -> m.Info:
    slot_bytes = draw(u32)
    slots = (draw(slot_info(slot_bytes)), draw(slot_info(slot_bytes)))
    return m.Info(draw(u8), draw(active_slot), draw(st.integers(m.MIN_MAX_PAYLOAD, 0xFFFF)), draw(u32), draw(u32),
                  draw(u32), slot_bytes, draw(u32), draw(st.binary(max_size=m.MAX_UID)), draw(name), draw(name), slots)


MESSAGES = {
    m.Hello: st.builds(m.Hello, u8, u16),
    m.Info: info(),
    m.Ping: st.builds(m.Ping, blob),
    m.Pong: st.builds(m.Pong, u64, blob),
    m.StreamConfig: st.builds(m.StreamConfig, u8, u8, u16, u16, u8),
    m.StreamConfigAck: st.builds(m.StreamConfigAck, st.integers(0, 7), st.sampled_from(list(m.LogLevel)), u16, u16, u8),
    m.Reboot: st.builds(m.Reboot, u8),
    m.RebootAck: st.just(m.RebootAck()),
    m.Runtime: st.just(m.Runtime()),
    m.RuntimeInfo: st.builds(
        m.RuntimeInfo, c_name,
        st.lists(u16.filter(lambda c: c != m.CUSTOM_OPERATOR), unique=True, max_size=300).map(tuple),
        st.lists(c_name.filter(bool), unique=True, max_size=20).map(tuple),
    ),  # fmt: skip
    m.ModelBegin: st.builds(m.ModelBegin, u8, u32, sha, name, name),
    m.BeginAck: st.builds(m.BeginAck, st.integers(0, 1), u32),
    m.ModelChunk: st.builds(m.ModelChunk, u32, blob),
    m.ChunkAck: st.builds(m.ChunkAck, u32),
    m.ModelCommit: st.builds(m.ModelCommit, u8),
    m.CommitAck: st.builds(m.CommitAck, st.integers(0, 1), u32),
    m.ModelActivate: st.builds(m.ModelActivate, u8, u8),
    m.ActivateAck: st.builds(m.ActivateAck, active_slot, two_slots),
    m.ModelConfirm: st.builds(m.ModelConfirm, u8),
    m.ConfirmAck: st.builds(m.ConfirmAck, active_slot, two_slots),
    m.ModelRollback: st.just(m.ModelRollback()),
    m.RollbackAck: st.builds(m.RollbackAck, active_slot, two_slots),
    m.ModelStream: st.builds(m.ModelStream, u8, u8, sha),
    m.StreamAck: st.builds(m.StreamAck, u32),
    m.ModelData: st.builds(m.ModelData, u32, blob),
    m.DataAck: st.builds(m.DataAck, u32, u32),
    m.InferResult: st.builds(m.InferResult, u64, u32, u32, u32, st.binary(min_size=4, max_size=4), u8,
                                  st.sampled_from(list(m.OutputFormat)), f32, i32, blob),
    m.Power: st.builds(m.Power, u64, u16, u32, u64),
    m.Log: st.builds(m.Log, u64, st.sampled_from(list(m.LogLevel)), text),
    m.Boot: st.builds(m.Boot, st.sampled_from(list(m.BootReason)), u32),
    m.Error: st.builds(m.Error, u16, u32, text),
}

any_message = st.one_of(*MESSAGES.values())
