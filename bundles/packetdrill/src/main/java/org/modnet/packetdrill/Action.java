package org.modnet.packetdrill;

/** What an event does: a packet, a system call, a shell command or a Python snippet. */
public sealed interface Action permits Packet, SystemCall, ShellCommand, PythonCode {
}
