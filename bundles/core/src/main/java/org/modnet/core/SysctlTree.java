package org.modnet.core;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

import org.modnet.api.net.Errno;
import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.IntVectorSysctl;
import org.modnet.api.net.NetException;
import org.modnet.api.net.StringSysctl;
import org.modnet.api.net.Sysctl;

/**
 * One namespace's sysctl entries, by dotted name ({@code net.core.dev_weight}). An entry a layer
 * registers takes the configured value ({@link SysctlConf}) if there is one, as {@code sysctl --system}
 * would have set it at boot; otherwise Linux's default.
 */
final class SysctlTree implements Sysctl {
    private final ConcurrentSkipListMap<String, Entry> entries = new ConcurrentSkipListMap<>();
    private final SysctlConf conf;

    SysctlTree() {
        this(new SysctlConf());
    }

    SysctlTree(SysctlConf conf) {
        this.conf = conf;
    }

    /** Adds the entry unless the name is taken; a new entry takes its configured value. */
    private Entry register(String name, Entry fresh) {
        Entry e = entries.putIfAbsent(name, fresh);
        if (e != null) {
            return e;
        }
        String configured = conf.value(name);
        if (configured != null) {
            conf.apply(this, name, configured);
        }
        return fresh;
    }

    /**
     * The configuration changed from {@code before} to {@code after}: names it no longer holds go back
     * to their defaults, the rest take their configured values. Returns the names that failed (no such
     * entry yet is not a failure: the entry takes its value when its layer registers it).
     */
    void reconfigure(Map<String, String> before, Map<String, String> after) {
        for (String name : before.keySet()) {
            if (!after.containsKey(name)) {
                Entry e = entries.get(name);
                if (e != null) {
                    e.reset();
                }
            }
        }
        for (Map.Entry<String, String> e : after.entrySet()) {
            if (entries.containsKey(e.getKey())) {
                conf.apply(this, e.getKey(), e.getValue());
            }
        }
    }

    @Override
    public IntSysctl registerInt(String name, int defaultValue, int min, int max) {
        if (defaultValue < min || defaultValue > max) {
            throw new IllegalArgumentException(name + ": default " + defaultValue + " outside [" + min + ", " + max + "]");
        }
        Entry e = register(name, new IntEntry(name, defaultValue, min, max));
        if (!(e instanceof IntEntry i)) {
            throw new IllegalArgumentException(name + " is registered with several values");
        }
        return i;
    }

    @Override
    public IntSysctl registerInt(String name, int defaultValue, int min, int max, java.util.function.IntConsumer onWrite) {
        if (defaultValue < min || defaultValue > max) {
            throw new IllegalArgumentException(name + ": default " + defaultValue + " outside [" + min + ", " + max + "]");
        }
        IntEntry fresh = new IntEntry(name, defaultValue, min, max);
        fresh.onWrite = onWrite; // a configured value, applied as it registers, is a write the owner hears of
        Entry e = register(name, fresh);
        if (!(e instanceof IntEntry i)) {
            throw new IllegalArgumentException(name + " is registered with several values");
        }
        i.onWrite = onWrite; // a next version's listener replaces the last one's
        return i;
    }

    @Override
    public IntSysctl registerInt(String name, IntSysctl parent, int min, int max) {
        Entry e = register(name, new FollowingEntry(name, parent, min, max));
        if (!(e instanceof IntSysctl i)) {
            throw new IllegalArgumentException(name + " is registered with several values");
        }
        return i;
    }

    @Override
    public IntVectorSysctl registerInts(String name, int[] defaults, int min, int max, boolean ordered) {
        VectorEntry check = new VectorEntry(name, defaults.clone(), min, max, ordered);
        try {
            check.set(defaults);
        } catch (NetException ex) {
            throw new IllegalArgumentException(name + ": defaults outside [" + min + ", " + max + "] or out of order");
        }
        Entry e = register(name, check);
        if (!(e instanceof VectorEntry v)) {
            throw new IllegalArgumentException(name + " is registered with one value");
        }
        return v;
    }

    @Override
    public StringSysctl registerString(String name, String defaultValue, StringSysctl.Check check) {
        Entry e = register(name, new TextEntry(name, defaultValue, check));
        if (!(e instanceof TextEntry t)) {
            throw new IllegalArgumentException(name + " is registered with numbers");
        }
        return t;
    }

    @Override
    public void alias(String name, String target) {
        Entry e = entries.get(target);
        if (e == null) {
            throw new IllegalArgumentException(name + ": alias of " + target + ", which is not registered");
        }
        register(name, e);
    }

    @Override
    public void stored(String name, Stored how) {
        IntEntry e = switch (entries.get(name)) {
            case IntEntry i -> i;
            case FollowingEntry f -> f.own;
            case null, default -> throw new IllegalArgumentException(name + " is not a registered integer entry");
        };
        e.stored = how == Stored.MS_JIFFIES ? SysctlTree::msJiffies : SysctlTree::userHzJiffies;
        e.value = e.stored.applyAsInt(e.value);
    }

    /** A millisecond value as proc_dointvec_ms_jiffies keeps it: in jiffies, read back in milliseconds. */
    private static int msJiffies(int ms) {
        return (int) Math.min(Integer.MAX_VALUE, org.modnet.api.net.Jiffies.toMsecs(org.modnet.api.net.Jiffies.fromMsecs(ms)));
    }

    /** A value in hundredths of a second as proc_dointvec_userhz_jiffies keeps it: in jiffies, read back in USER_HZ. */
    private static int userHzJiffies(int cs) {
        int hz = org.modnet.api.net.Jiffies.HZ;
        return (int) Math.min(Integer.MAX_VALUE, org.modnet.api.net.Jiffies.toUserHz(org.modnet.api.net.Jiffies.fromUserHz(cs, hz), hz));
    }

    @Override
    public void unregister(String prefix) {
        entries.keySet().removeIf(name -> name.equals(prefix) || name.startsWith(prefix + "."));
    }

    @Override
    public String get(String name) throws NetException {
        return entry(name).text();
    }

    @Override
    public void set(String name, String value) throws NetException {
        Entry entry = entry(name);
        if (entry instanceof TextEntry t) {
            t.set(value.strip());
            return;
        }
        String[] words = value.strip().split("\\s+");
        int[] v = new int[words.length];
        try {
            for (int i = 0; i < words.length; i++) {
                v[i] = Integer.parseInt(words[i]);
            }
        } catch (NumberFormatException e) {
            throw new NetException(Errno.EINVAL);
        }
        entry.setAll(v);
    }

    private Entry entry(String name) throws NetException {
        Entry entry = entries.get(name.replace('/', '.'));
        if (entry == null) {
            throw new NetException(Errno.ENOENT);
        }
        return entry;
    }

    @Override
    public SortedMap<String, String> all() {
        TreeMap<String, String> all = new TreeMap<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            all.put(e.getKey(), e.getValue().text());
        }
        return Collections.unmodifiableSortedMap(all);
    }

    /** What {@code sysctl} reads and writes of any entry. */
    private interface Entry {
        String text();

        void setAll(int[] values) throws NetException;

        /** Back to the value it was registered with. */
        void reset();
    }

    /** An integer entry: a volatile read for the packet path, a range check for writers. */
    static final class IntEntry implements IntSysctl, Entry {
        private final String name;
        private final int min;
        private final int max;
        private final int defaultValue;
        volatile int value;
        /** What a write by {@code sysctl -w} sets off, or null. */
        volatile java.util.function.IntConsumer onWrite;
        /** How a value written by {@code sysctl -w} is kept (a round trip through jiffies, {@link #stored}), or null: as written. */
        volatile java.util.function.IntUnaryOperator stored;

        IntEntry(String name, int value, int min, int max) {
            this.name = name;
            this.value = value;
            this.defaultValue = value;
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

        @Override
        public String text() {
            return String.valueOf(value);
        }

        @Override
        public void setAll(int[] values) throws NetException {
            if (values.length != 1) {
                throw new NetException(Errno.EINVAL);
            }
            int v = written(values[0]);
            set(v);
            java.util.function.IntConsumer l = onWrite;
            if (l != null) {
                l.accept(v);
            }
        }

        /** What {@code sysctl -w NAME=v} keeps: {@code v} in range, through jiffies if the entry is so {@link #stored}. */
        int written(int v) throws NetException {
            java.util.function.IntUnaryOperator s = stored;
            if (s == null || v < min || v > max) {
                return v;
            }
            int kept = s.applyAsInt(v);
            if (kept > max) {
                throw new NetException(Errno.EINVAL);
            }
            return kept;
        }

        @Override
        public void reset() {
            value = defaultValue;
            java.util.function.IntConsumer l = onWrite;
            if (l != null) {
                l.accept(defaultValue);
            }
        }
    }

    /** An integer that is its parent's until written: one volatile read more on the packet path. */
    static final class FollowingEntry implements IntSysctl, Entry {
        final IntEntry own;
        private final IntSysctl parent;
        private volatile boolean written;

        FollowingEntry(String name, IntSysctl parent, int min, int max) {
            this.own = new IntEntry(name, Math.clamp(parent.get(), min, max), min, max);
            this.parent = parent;
        }

        @Override
        public String name() {
            return own.name();
        }

        @Override
        public int get() {
            return written ? own.get() : parent.get();
        }

        @Override
        public void set(int v) throws NetException {
            own.set(v);
            written = true;
        }

        @Override
        public String text() {
            return String.valueOf(get());
        }

        @Override
        public void setAll(int[] values) throws NetException {
            if (values.length != 1) {
                throw new NetException(Errno.EINVAL);
            }
            set(own.written(values[0]));
        }

        @Override
        public void reset() {
            written = false;
        }
    }

    /** Several integers, replaced together: readers see the old vector or the new one, never a mix. */
    static final class VectorEntry implements IntVectorSysctl, Entry {
        private final String name;
        private final int min;
        private final int max;
        private final boolean ordered;
        private final int[] defaults;
        private volatile int[] values;

        VectorEntry(String name, int[] values, int min, int max, boolean ordered) {
            this.name = name;
            this.values = values;
            this.defaults = values.clone();
            this.min = min;
            this.max = max;
            this.ordered = ordered;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int[] get() {
            return values;
        }

        @Override
        public void set(int... v) throws NetException {
            if (v.length != values.length) {
                throw new NetException(Errno.EINVAL);
            }
            for (int i = 0; i < v.length; i++) {
                if (v[i] < min || v[i] > max || (ordered && i > 0 && v[i] < v[i - 1])) {
                    throw new NetException(Errno.EINVAL);
                }
            }
            values = v.clone();
        }

        @Override
        public String text() {
            StringBuilder b = new StringBuilder();
            for (int v : values) {
                b.append(b.isEmpty() ? "" : "\t").append(v);
            }
            return b.toString();
        }

        @Override
        public void setAll(int[] v) throws NetException {
            set(v);
        }

        @Override
        public void reset() {
            values = defaults.clone();
        }
    }

    /** A text entry: its owner's check decides what a writer may set; without one it is read-only. */
    static final class TextEntry implements StringSysctl, Entry {
        private final String name;
        private final String defaultValue;
        private final StringSysctl.Check check;
        private volatile String value;

        TextEntry(String name, String value, StringSysctl.Check check) {
            this.name = name;
            this.value = value;
            this.defaultValue = value;
            this.check = check;
        }

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

        @Override
        public String text() {
            return value;
        }

        @Override
        public void setAll(int[] values) throws NetException {
            throw new NetException(Errno.EINVAL);
        }

        @Override
        public void reset() {
            if (check != null) {
                value = defaultValue;
            }
        }
    }
}
