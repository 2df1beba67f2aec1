/**
 * packetdrill for modnet: the script language of Google's TCP scripts and the runner that drives
 * modnet's TCP with them. Private to its bundle.
 *
 * <ul>
 * <li>{@link org.modnet.packetdrill.Parser#parse(java.nio.file.Path, CommandLine)} reads a script into a
 * {@link org.modnet.packetdrill.Script}: its header options, the {@link org.modnet.packetdrill.Config}
 * they give under the {@link org.modnet.packetdrill.CommandLine}'s options, the init command, the
 * {@link org.modnet.packetdrill.Event}s, the cleanup command. A refused script is a
 * {@link org.modnet.packetdrill.ScriptException} carrying packetdrill's own message
 * ({@code FILE:LINE: parse error at 'X': syntax error}, {@code FILE:LINE: semantic error: ...}).</li>
 * <li>An event has its line, an {@link org.modnet.packetdrill.EventTime} (absolute, relative, any,
 * absolute or relative window; microseconds) and an {@link org.modnet.packetdrill.Action}:
 * a {@link org.modnet.packetdrill.TcpPacket} (flags, seq START:END(LEN), ack, win, urg,
 * {@link org.modnet.packetdrill.TcpOption}s or {@code <...>}, {@link org.modnet.packetdrill.IpInfo}),
 * {@link org.modnet.packetdrill.UdpPacket}, {@link org.modnet.packetdrill.IcmpPacket},
 * {@link org.modnet.packetdrill.SystemCall} (name, {@link org.modnet.packetdrill.Expression} arguments,
 * result, errno, blocking end time), {@link org.modnet.packetdrill.ShellCommand},
 * {@link org.modnet.packetdrill.PythonCode}.</li>
 * <li>{@link org.modnet.packetdrill.Symbols} gives the Linux values of the names system calls use.</li>
 * <li>{@link org.modnet.packetdrill.Runner} runs a script file on a {@link org.modnet.packetdrill.Testbed}
 * (a namespace with the {@link org.modnet.packetdrill.TestDevice} {@code tun0}, a process for the
 * system calls, a clock: virtual in tests, wall time in {@code LiveTestbed}) through the
 * {@link org.modnet.packetdrill.Interpreter}: {@code PacketMatcher} injects and matches packets,
 * {@code SyscallExecutor} maps calls onto {@code SocketCalls}, {@code ShellCommands} back-quoted
 * commands onto {@code sysctl}, {@code TcpInfoCode} runs {@code %{ }%} snippets. The verdict is an
 * {@link org.modnet.packetdrill.Outcome}: pass, failed with packetdrill's error line, or skipped.</li>
 * <li>{@link org.modnet.packetdrill.PacketdrillCommand} is the {@code packetdrill} shell command.</li>
 * </ul>
 */
package org.modnet.packetdrill;
