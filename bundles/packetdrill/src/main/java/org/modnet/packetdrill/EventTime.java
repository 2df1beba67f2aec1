package org.modnet.packetdrill;

/**
 * The time column (parser.y {@code event_time}), in microseconds as packetdrill converts it
 * ({@code (long)(seconds * 1e6)}): {@code 1.5} absolute, {@code +0.1} relative to the previous event,
 * {@code *} any time, {@code 0.1~0.2} an absolute window, {@code +.3~+.4} a relative window (both ends
 * from the same base). {@code endUsecs} is {@link #NO_RANGE} unless the time is a window.
 */
public record EventTime(Type type, long usecs, long endUsecs) {
    public static final long NO_RANGE = -1;

    public enum Type { ABSOLUTE, RELATIVE, ANY, ABSOLUTE_RANGE, RELATIVE_RANGE }

    public boolean isAbsolute() {
        return type == Type.ABSOLUTE || type == Type.ABSOLUTE_RANGE;
    }

    public boolean isRange() {
        return type == Type.ABSOLUTE_RANGE || type == Type.RELATIVE_RANGE;
    }
}
