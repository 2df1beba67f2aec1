package org.modnet.packetdrill;

/**
 * A {@code %{ ... }%} snippet: packetdrill snapshots the socket's {@code TCP_INFO} at the event's
 * time and runs all snippets, in order and sharing variables, as one Python program at the end.
 * The text is without the delimiters and the blanks next to them.
 */
public record PythonCode(String code, int line) implements Action {
}
