package org.modnet.api.net;

import java.util.SortedMap;

/**
 * A namespace's sysctl tree ({@code /proc/sys/net}): named, typed values with ranges. Layers
 * register their entries in their per-namespace init and read them through the returned handle, which
 * costs a volatile read.
 */
public interface Sysctl {

    /** An integer entry in [min, max] with its default; registering a name twice returns the first handle. */
    IntSysctl registerInt(String name, int defaultValue, int min, int max);

    /**
     * An integer entry whose writes by {@code sysctl -w} (not by {@link IntSysctl#set}) are followed by
     * {@code onWrite} with the new value, as a kernel table's own {@code proc_handler} acts on a write
     * ({@code net.ipv4.conf.all.forwarding} copies itself into every device). Registering the name again
     * returns the first handle and makes the new listener the one called (a layer's next version).
     * Implementations without listeners register a plain entry. @since 1.11
     */
    default IntSysctl registerInt(String name, int defaultValue, int min, int max, java.util.function.IntConsumer onWrite) {
        return registerInt(name, defaultValue, min, max);
    }

    /**
     * An integer entry that reads as {@code parent} until it is written, and keeps its own value from
     * then on: a device's copy of a default ({@code net.ipv4.neigh.eth0.gc_stale_time} follows
     * {@code net.ipv4.neigh.default.gc_stale_time}, as {@code neigh_copy_dflt_parms} keeps it).
     * Registering a name twice returns the first handle. Implementations that cannot follow take the
     * parent's value now.
     */
    default IntSysctl registerInt(String name, IntSysctl parent, int min, int max) {
        return registerInt(name, parent.get(), min, max);
    }

    /**
     * An entry of several integers, each in [min, max], printed separated by tabs as Linux does.
     * With {@code ordered} the values must not decrease ({@code ip_local_port_range}: low, high).
     * Registering a name twice returns the first handle.
     */
    IntVectorSysctl registerInts(String name, int[] defaults, int min, int max, boolean ordered);

    /**
     * A text entry with its default; {@code check} null makes it read-only for {@code sysctl -w}
     * (EPERM). Registering a name twice returns the first handle. Implementations without text entries
     * return a handle that is not listed.
     */
    default StringSysctl registerString(String name, String defaultValue, StringSysctl.Check check) {
        return new StringSysctl() {
            private volatile String value = defaultValue;

            @Override
            public String name() {
                return name;
            }

            @Override
            public String get() {
                return value;
            }

            @Override
            public void set(String v) throws NetException {
                if (check == null) {
                    throw new NetException(Errno.EPERM);
                }
                value = check.check(v);
            }

            @Override
            public void publish(String v) {
                value = v;
            }
        };
    }

    /**
     * A second name for a registered entry: the two read and write one value, as Linux's
     * {@code net.ipv4.conf.all.forwarding} and {@code net.ipv4.ip_forward} do. Implementations without
     * aliases leave the second name unregistered.
     *
     * @throws IllegalArgumentException if {@code target} is not registered
     */
    default void alias(String name, String target) {
    }

    /** How Linux keeps an entry it shows in milliseconds or hundredths of a second: in jiffies. @since 1.18 */
    enum Stored {
        /** {@code proc_dointvec_ms_jiffies}: milliseconds, stored as {@code msecs_to_jiffies} (rounded up). */
        MS_JIFFIES,
        /** {@code proc_dointvec_userhz_jiffies}: hundredths of a second, stored as {@code clock_t_to_jiffies} (rounded down). */
        USER_HZ_JIFFIES
    }

    /**
     * Marks a registered integer entry as one Linux stores in jiffies: what {@code sysctl -w} writes (and the value it has
     * now) is turned into jiffies at {@link Jiffies#HZ} and back, so it reads back as Linux's does on a kernel of that HZ:
     * {@code net.ipv4.icmp_ratelimit=1001} reads 1004 at HZ=250, a neighbour's {@code locktime=3} reads 2. Implementations
     * that keep values as written ignore it. @since 1.18
     */
    default void stored(String name, Stored how) {
    }

    /** Removes the entries under this prefix (a layer's exit). */
    void unregister(String prefix);

    /** The value as {@code sysctl NAME} prints it; ENOENT if there is no such entry. */
    String get(String name) throws NetException;

    /** {@code sysctl -w NAME=VALUE}; ENOENT for no entry, EINVAL for a value out of range or not a number. */
    void set(String name, String value) throws NetException;

    /** Every entry and its value, sorted by name: {@code sysctl -a}. */
    SortedMap<String, String> all();
}
