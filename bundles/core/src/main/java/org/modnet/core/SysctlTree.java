package org.modnet.core;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

import org.modnet.api.net.Errno;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetException;
import org.modnet.api.net.Sysctl;

/** One namespace's sysctl entries, by dotted name ({@code net.core.dev_weight}). */
final class SysctlTree implements Sysctl {
    private final ConcurrentSkipListMap<String, IntEntry> entries = new ConcurrentSkipListMap<>();

    @Override
    public IntSysctl registerInt(String name, int defaultValue, int min, int max) {
        if (defaultValue < min || defaultValue > max) {
            throw new IllegalArgumentException(name + ": default " + defaultValue + " outside [" + min + ", " + max + "]");
        }
        return entries.computeIfAbsent(name, n -> new IntEntry(n, defaultValue, min, max));
    }

    @Override
    public void unregister(String prefix) {
        entries.keySet().removeIf(name -> name.equals(prefix) || name.startsWith(prefix + "."));
    }

    @Override
    public String get(String name) throws NetException {
        return String.valueOf(entry(name).get());
    }

    @Override
    public void set(String name, String value) throws NetException {
        IntEntry entry = entry(name);
        int v;
        try {
            v = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new NetException(Errno.EINVAL);
        }
        entry.set(v);
    }

    private IntEntry entry(String name) throws NetException {
        IntEntry entry = entries.get(name.replace('/', '.'));
        if (entry == null) {
            throw new NetException(Errno.ENOENT);
        }
        return entry;
    }

    @Override
    public SortedMap<String, String> all() {
        TreeMap<String, String> all = new TreeMap<>();
        for (Map.Entry<String, IntEntry> e : entries.entrySet()) {
            all.put(e.getKey(), String.valueOf(e.getValue().get()));
        }
        return Collections.unmodifiableSortedMap(all);
    }

    /** An integer entry: a volatile read for the packet path, a range check for writers. */
    static final class IntEntry implements IntSysctl {
        private final String name;
        private final int min;
        private final int max;
        private volatile int value;

        IntEntry(String name, int value, int min, int max) {
            this.name = name;
            this.value = value;
            this.min = min;
            this.max = max;
        }

        @Override
        public String name() {
            return name;
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
    }
}
