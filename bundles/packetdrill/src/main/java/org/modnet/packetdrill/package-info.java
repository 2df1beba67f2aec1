/**
 * packetdrill's script language for modnet: what a runner of Google's TCP scripts reads before it
 * drives the stack. Private to its bundle; the TCP runner (issue 14) is built on it.
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
 * </ul>
 */
package org.modnet.packetdrill;
