package org.modnet.api.net;

/**
 * A text sysctl entry ({@code net.ipv4.tcp_congestion_control}): its check decides what a writer may
 * set; a read-only entry ({@code net.ipv4.tcp_available_congestion_control}) has no check and only its
 * owner changes it, with {@link #publish}.
 */
public interface StringSysctl {
    /** What {@code sysctl -w} is checked with: returns the value to store, or throws (ENOENT, EINVAL...). */
    @FunctionalInterface
    interface Check {
        String check(String value) throws NetException;
    }

    String name();

    /** The value: a volatile read. */
    String get();

    /** A writer's set, through the check; EPERM for a read-only entry. */
    void set(String value) throws NetException;

    /** The owner's set, without the check. */
    void publish(String value);
}
