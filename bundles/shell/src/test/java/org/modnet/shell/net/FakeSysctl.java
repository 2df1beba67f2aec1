package org.modnet.shell.net;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

import org.modnet.api.net.Errno;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;

/** Integer sysctls by dotted name, with ranges, refusing as the core does (ENOENT, EINVAL). */
final class FakeSysctl implements Sysctl {
    private record Entry(int min, int max) {
    }

    private final TreeMap<String, Entry> entries = new TreeMap<>();
    private final TreeMap<String, Integer> values = new TreeMap<>();

    FakeSysctl() {
        registerInt("net.core.dev_weight", 64, 1, Integer.MAX_VALUE);
        registerInt("net.core.netdev_max_backlog", 1000, 1, Integer.MAX_VALUE);
        registerInt("net.ipv4.ip_forward", 0, 0, 1);
    }

    @Override
    public IntSysctl registerInt(String name, int defaultValue, int min, int max) {
        entries.putIfAbsent(name, new Entry(min, max));
        values.putIfAbsent(name, defaultValue);
        return null;
    }

    @Override
    public org.modnet.api.net.IntVectorSysctl registerInts(String name, int[] defaults, int min, int max, boolean ordered) {
        throw new UnsupportedOperationException("the shell's tests use integer entries only");
    }

    @Override
    public void unregister(String prefix) {
        entries.keySet().removeIf(n -> n.startsWith(prefix));
        values.keySet().removeIf(n -> n.startsWith(prefix));
    }

    @Override
    public String get(String name) throws NetException {
        Integer v = values.get(name);
        if (v == null) {
            throw new NetException(Errno.ENOENT);
        }
        return v.toString();
    }

    @Override
    public void set(String name, String value) throws NetException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new NetException(Errno.ENOENT);
        }
        int v;
        try {
            v = Integer.parseInt(value.strip());
        } catch (NumberFormatException ex) {
            throw new NetException(Errno.EINVAL);
        }
        if (v < e.min() || v > e.max()) {
            throw new NetException(Errno.EINVAL);
        }
        values.put(name, v);
    }

    @Override
    public SortedMap<String, String> all() {
        TreeMap<String, String> all = new TreeMap<>();
        values.forEach((k, v) -> all.put(k, v.toString()));
        return Collections.unmodifiableSortedMap(all);
    }
}
