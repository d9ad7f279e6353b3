"""What tests share: model fixtures, hand-built events, a host codec for test drivers, a
managed in-memory farm, a fake timer, a wait on a condition (not on the clock), and the
check for the simulator extra.

Test folders import shared helpers from here, never from another folder's conftest or
test modules (a folder's conftest only holds that folder's fixtures)."""
