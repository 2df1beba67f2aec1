package org.modnet.packetdrill;

/** A back-quoted command ({@code `sysctl -q net.ipv4.tcp_sack=0`}), run through the shell; text without the quotes. */
public record ShellCommand(String command, int line) implements Action {
}
