package org.modnet.conntrack;

import java.util.SortedMap;
import java.util.TreeMap;

import org.modnet.api.net.Errno;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.IntVectorSysctl;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;

/** Integer sysctls with working handles and ranges, as the core keeps them. */
final class TestSysctl implements Sysctl {
    private final TreeMap<String, IntSysctl> entries = new TreeMap<>();

    @Override
    public IntSysctl registerInt(String name, int defaultValue, int min, int max) {
        return entries.computeIfAbsent(name, n -> new IntSysctl() {
            private volatile int value = defaultValue;

            @Override
            public String name() {
                return n;
            }

            @Override
            public int get() {
                return value;
            }

            @Override
            public void set(int v) throws NetException {
                if (v < min || v > max) {
                    throw new NetException(Errno.EINVAL);
                }
                value = v;
            }
        });
    }

    @Override
    public IntVectorSysctl registerInts(String name, int[] defaults, int min, int max, boolean ordered) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void unregister(String prefix) {
        entries.keySet().removeIf(n -> n.startsWith(prefix));
    }

    @Override
    public String get(String name) throws NetException {
        IntSysctl e = entries.get(name);
        if (e == null) {
            throw new NetException(Errno.ENOENT);
        }
        return Integer.toString(e.get());
    }

    @Override
    public void set(String name, String value) throws NetException {
        IntSysctl e = entries.get(name);
        if (e == null) {
            throw new NetException(Errno.ENOENT);
        }
        e.set(Integer.parseInt(value));
    }

    @Override
    public SortedMap<String, String> all() {
        TreeMap<String, String> m = new TreeMap<>();
        entries.forEach((k, v) -> m.put(k, Integer.toString(v.get())));
        return m;
    }
}
