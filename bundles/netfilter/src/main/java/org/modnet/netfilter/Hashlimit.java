package org.modnet.netfilter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * {@code -m hashlimit} (xt_hashlimit.c, libxt_hashlimit.c revision 3): a token bucket per key (the
 * addresses and ports {@code --hashlimit-mode} names, the addresses cut to {@code -srcmask}/{@code -dstmask})
 * in a table shared by every rule of the namespace that gives the same {@code --hashlimit-name}, as the
 * kernel's {@code htable_find_get} shares it, and {@code /proc/net/ipt_hashlimit/NAME} lists its entries.
 * The table is made whole when the rule is (no allocation on the packet path), holds at most
 * {@code --hashlimit-htable-max} keys, and a packet whose key finds no room is dropped and counted (the
 * kernel's {@code hotdrop} when {@code dsthash_alloc_init} fails).
 */
final class Hashlimit {
    /** XT_HASHLIMIT_SCALE_v2: {@code avg} counts millionths of a second per packet. */
    static final long SCALE = 1_000_000L;
    static final int DEFAULT_BURST = 5;
    /** XT_HASHLIMIT_GCINTERVAL and XT_HASHLIMIT_EXPIRE (the expiry printed as "default" is the rate's unit). */
    static final int GCINTERVAL = 1000, EXPIRE = 10000;
    /** The kernel's credits: HZ = 1000 jiffies a second, CREDITS_PER_JIFFY_v2 = 2^37 (POW2_BELOW64 of U64_MAX / (HZ * 86400)). */
    static final long CREDITS_PER_MS = 1L << 37;
    /** user2credits's factor for revision 2 and later: HZ * CREDITS_PER_JIFFY_v2 / XT_HASHLIMIT_SCALE_v2. */
    static final long CREDITS_PER_AVG = 1000L * CREDITS_PER_MS / SCALE;
    /** The kernel's default table size for a machine with a gigabyte or more (htable_create), and max = 8 * size. */
    static final int DEFAULT_SIZE = 8192;
    /** How far a key looks for its slot before it counts as not finding room. */
    static final int PROBES = 32;

    static final int MODE_SIP = 1, MODE_SPT = 2, MODE_DIP = 4, MODE_DPT = 8;
    private static final String[] MODE_NAMES = { "srcip", "srcport", "dstip", "dstport" };

    private Hashlimit() {
    }

    /** A rule's {@code --hashlimit-*} options, as libxt_hashlimit keeps them in {@code hashlimit_cfg3}. */
    static final class Cfg {
        long avg;
        long burst = DEFAULT_BURST;
        int mode;
        boolean above;
        int srcmask = 32, dstmask = 32;
        String name;
        long size, max;
        long gcinterval = GCINTERVAL;
        long expire = -1;
        /** The unit the rate was given in, in seconds: the expiry when none is given (hashlimit_mt_check). */
        long unit = 1;
    }

    // ------------------------------------------------------------------ options

    /** libxt_hashlimit's parse_rate: {@code N[/second|minute|hour|day]} (any prefix) into cfg.avg and cfg.unit. */
    static void parseRate(Cfg cfg, String opt, String s) {
        int slash = s.indexOf('/');
        long mult = 1;
        if (slash >= 0) {
            String u = s.substring(slash + 1).toLowerCase(Locale.ROOT);
            if (!u.isEmpty() && "second".startsWith(u)) {
                mult = 1;
            } else if (!u.isEmpty() && "minute".startsWith(u)) {
                mult = 60;
            } else if (!u.isEmpty() && "hour".startsWith(u)) {
                mult = 3600;
            } else if (!u.isEmpty() && "day".startsWith(u)) {
                mult = 86400;
            } else {
                throw badValue(opt, s);
            }
        }
        String n = slash >= 0 ? s.substring(0, slash) : s;
        long r = n.matches("[0-9]{1,18}") ? Long.parseLong(n) : 0;
        if (r == 0) {
            throw badValue(opt, s);
        }
        long v = SCALE * mult / r;
        if (v == 0) {
            throw Iptables.syntax("Rate too fast \"" + s + "\"");
        }
        cfg.avg = v;
        cfg.unit = mult;
    }

    static CommandException badValue(String opt, String v) {
        return Iptables.syntax("hashlimit: Bad value for \"" + opt + "\" option: \"" + v + "\"");
    }

    /** {@code srcip,dstport,...} into the mode bits; an unknown word is refused in libxt_hashlimit's words. */
    static int parseMode(String opt, String s) {
        int m = 0;
        for (String w : s.split(",", -1)) {
            int k = List.of(MODE_NAMES).indexOf(w);
            if (k < 0) {
                throw badValue(opt, s);
            }
            m |= 1 << k;
        }
        return m;
    }

    /** An unsigned 32-bit option value, refused as xtables' XTTYPE_UINT32 refuses it. */
    static long u32(String opt, String v) {
        if (!v.matches("[0-9]{1,10}") || Long.parseLong(v) > 0xffffffffL) {
            throw Iptables.syntaxBlank("hashlimit: bad value for option \"" + opt + "\", or out of range (0-4294967295).");
        }
        return Long.parseLong(v);
    }

    /** The credits a number of {@code avg}-units is worth (user2credits, revision 2 and later). */
    static long credits(long user) {
        return user * CREDITS_PER_AVG;
    }

    /**
     * The kernel's checks when the rule is loaded (hashlimit_mt_check_common): the bucket must fit in 64
     * bits, a mask in 32, an expiry and a gc interval must be given.
     */
    static void check(Cfg c) {
        if (Long.compareUnsigned(credits(c.avg * c.burst), credits(c.avg)) < 0
                || Math.multiplyHigh(c.avg, c.burst) != 0) {
            throw Iptables.fail("Numerical result out of range.");
        }
        if (c.srcmask > 32 || c.dstmask > 32 || c.gcinterval == 0 || c.expire == 0 || c.name.isEmpty()) {
            throw Iptables.fail("Invalid argument. Run `dmesg' for more information.");
        }
    }

    // ------------------------------------------------------------------ the table

    /**
     * One name's table (struct xt_hashlimit_htable): open addressing over preallocated slots, twice
     * {@code max} of them, so at most half are live. A slot is claimed by compare-and-set and never
     * returns to empty while the table lives: an expired one is marked stale and reused by the next key
     * whose probe passes it, so a lookup never stops early at a hole. Each live slot keeps its bucket as
     * a theoretical arrival time (the generic cell rate algorithm, as {@code -m limit} here), which admits
     * what the kernel's credit bucket admits without its per-entry lock.
     */
    static final class Table {
        private static final int EMPTY = 0, BUSY = 1, LIVE = 2, STALE = 3;
        final String name;
        final int max;
        final long expireNs, gcNs;
        private final int mask;
        private final AtomicIntegerArray state;
        private final long[] addrs;
        private final int[] ports;
        private final AtomicLongArray tat;
        private final AtomicLongArray expires;
        private final AtomicInteger count = new AtomicInteger();
        private final AtomicLong lastGc = new AtomicLong();
        /** Keys that found no room (the table at its max, or no free slot within PROBES): their packets dropped. */
        final AtomicLong refused = new AtomicLong();
        final LongSupplier clock;

        Table(String name, Cfg c, LongSupplier clock) {
            this.name = name;
            long size = c.size != 0 ? c.size : DEFAULT_SIZE;
            long mx = c.max != 0 ? c.max : 8 * size;
            this.max = (int) Math.min(mx, 1 << 20); // modnet's bound: a million keys
            this.expireNs = c.expire * 1_000_000L;
            this.gcNs = c.gcinterval * 1_000_000L;
            this.clock = clock;
            int slots = Integer.highestOneBit(Math.max(16, 2 * max - 1)) << 1;
            mask = slots - 1;
            state = new AtomicIntegerArray(slots);
            addrs = new long[slots];
            ports = new int[slots];
            tat = new AtomicLongArray(slots);
            expires = new AtomicLongArray(slots);
            lastGc.set(clock.getAsLong());
        }

        int count() {
            return count.get();
        }

        private static int hash(long a, int p) {
            long h = (a ^ ((long) p << 17)) * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29) ^ (h >>> 41));
        }

        /** The slot of a key, made if missing; -1 when there is no room for it. Allocates nothing. */
        int find(long a, int p, long now) {
            for (int attempt = 0; attempt < 4; attempt++) {
                int free = -1, freeState = 0;
                int i = hash(a, p) & mask;
                for (int probe = 0; probe < PROBES; probe++, i = (i + 1) & mask) {
                    int st = state.get(i);
                    while (st == BUSY) {
                        Thread.onSpinWait(); // another packet is writing a key there: a handful of stores
                        st = state.get(i);
                    }
                    if (st == LIVE) {
                        if (addrs[i] == a && ports[i] == p) {
                            return i;
                        }
                        if (expires.get(i) - now < 0 && state.compareAndSet(i, LIVE, STALE)) {
                            count.decrementAndGet(); // the kernel's gc would have freed it by now
                            st = STALE;
                        }
                    }
                    if (st == STALE && free < 0) {
                        free = i;
                        freeState = STALE;
                    }
                    if (st == EMPTY) {
                        if (free < 0) {
                            free = i;
                            freeState = EMPTY;
                        }
                        break;
                    }
                }
                if (free < 0) {
                    refused.incrementAndGet();
                    return -1;
                }
                if (count.incrementAndGet() > max) {
                    count.decrementAndGet();
                    if (gc(now)) {
                        continue; // expired keys went: look again
                    }
                    refused.incrementAndGet();
                    return -1;
                }
                if (!state.compareAndSet(free, freeState, BUSY)) {
                    count.decrementAndGet();
                    continue; // another key took it: look again, it may be this key
                }
                addrs[free] = a;
                ports[free] = p;
                tat.set(free, Long.MIN_VALUE);
                expires.set(free, now + expireNs);
                state.set(free, LIVE);
                return free;
            }
            refused.incrementAndGet();
            return -1;
        }

        /**
         * htable_gc: marks expired keys stale, at most once a gc interval; the packet that finds the
         * table full pays for it, so no timer is needed and a table nobody fills is never walked.
         */
        boolean gc(long now) {
            long last = lastGc.get();
            if (now - last < gcNs || !lastGc.compareAndSet(last, now)) {
                return false;
            }
            boolean freed = false;
            for (int i = 0; i <= mask; i++) {
                if (state.get(i) == LIVE && expires.get(i) - now < 0 && state.compareAndSet(i, LIVE, STALE)) {
                    count.decrementAndGet();
                    freed = true;
                }
            }
            return freed;
        }

        /** One token from slot i's bucket (rate {@code interval} ns a packet, {@code tolerance} ns of burst). */
        boolean take(int i, long now, long interval, long tolerance) {
            long exp = expires.get(i);
            if (exp - now < 0 && expires.compareAndSet(i, exp, now + expireNs)) {
                tat.set(i, Long.MIN_VALUE); // expired but not yet collected: it starts again full
            } else if (exp != now + expireNs) {
                expires.set(i, now + expireNs);
            }
            while (true) {
                long t = tat.get(i);
                long start = t == Long.MIN_VALUE || t - now < 0 ? now : t;
                if (start - now > tolerance) {
                    return false;
                }
                if (tat.compareAndSet(i, t, start + interval)) {
                    return true;
                }
            }
        }

        /**
         * The live keys' buckets for the next version of the module: per key {@code addr port tat
         * expires}, the times relative to now (the bucket's theoretical arrival time, {@code -} for a
         * full bucket), so the next version's buckets stand where these stood.
         */
        List<String> export() {
            List<String> out = new ArrayList<>();
            long now = clock.getAsLong();
            for (int i = 0; i <= mask; i++) {
                long exp = expires.get(i);
                if (state.get(i) != LIVE || exp - now < 0) {
                    continue;
                }
                long t = tat.get(i);
                out.add(addrs[i] + " " + ports[i] + " " + (t == Long.MIN_VALUE || t - now < 0 ? "-" : Long.toString(t - now))
                        + " " + (exp - now));
            }
            return out;
        }

        /** A key of the previous version's {@link #export}; false when it is malformed or finds no room. */
        boolean adopt(String line) {
            String[] f = line.trim().split(" ");
            if (f.length != 4) {
                return false;
            }
            try {
                long a = Long.parseLong(f[0]);
                int p = Integer.parseInt(f[1]);
                long now = clock.getAsLong();
                long expLeft = Long.parseLong(f[3]);
                if (expLeft < 0) {
                    return false;
                }
                int i = find(a, p, now);
                if (i < 0) {
                    return false;
                }
                tat.set(i, f[2].equals("-") ? Long.MIN_VALUE : now + Long.parseLong(f[2]));
                expires.set(i, now + Math.min(expLeft, expireNs));
                return true;
            } catch (NumberFormatException e) {
                return false;
            }
        }

        /**
         * {@code /proc/net/ipt_hashlimit/NAME} (dl_seq_print): per live key its seconds left, its key,
         * and its bucket in the kernel's credits (credit, credit_cap, cost).
         */
        List<String> proc() {
            List<String> out = new ArrayList<>();
            long now = clock.getAsLong();
            for (int i = 0; i <= mask; i++) {
                if (state.get(i) != LIVE || expires.get(i) - now < 0) {
                    continue;
                }
                long a = addrs[i];
                int p = ports[i];
                Cfg c = owner;
                long cost = credits(c.avg);
                long cap = credits(c.avg * c.burst);
                long t = tat.get(i);
                // the bucket is owed the time until its next token: in credits at the rate cost is counted in
                long owedUs = t == Long.MIN_VALUE || t - now < 0 ? 0 : (t - now) / 1000L;
                long owed = credits(owedUs);
                long credit = Long.compareUnsigned(owed, cap) > 0 ? 0 : cap - owed;
                out.add((expires.get(i) - now) / 1_000_000_000L + " " + Names.addr((int) (a >>> 32)) + ":" + (p >>> 16)
                        + "->" + Names.addr((int) a) + ":" + (p & 0xffff) + " " + Long.toUnsignedString(credit) + " "
                        + Long.toUnsignedString(cap) + " " + Long.toUnsignedString(cost));
            }
            return out;
        }

        /** The rate of the rule that made the table prints its keys' buckets (rules sharing a name share it). */
        volatile Cfg owner;
    }

    /**
     * A namespace's named tables (the kernel's per-net {@code hashlimit_htables}): a rule names one and
     * gets it, made on first use; one no rule of any table names any more is forgotten (htable_put).
     */
    static final class Registry {
        private final Map<String, Table> byName = new TreeMap<>();
        /** Which names each iptables table's rules use now. */
        private final Map<String, Set<String>> usedBy = new TreeMap<>();
        private final LongSupplier clock;
        /** Told after a table is made or forgotten (the /proc files follow). */
        volatile Runnable onChange = () -> { };

        Registry(LongSupplier clock) {
            this.clock = clock;
        }

        /** The table of the name, made for this rule's options if the namespace has none yet. */
        Table get(Cfg c) {
            Table t;
            boolean made = false;
            synchronized (this) {
                t = byName.get(c.name);
                if (t == null) {
                    t = new Table(c.name, c, clock);
                    t.owner = c;
                    byName.put(c.name, t);
                    made = true;
                }
            }
            if (made) {
                onChange.run(); // outside the lock: the listener asks every registry for its names
            }
            return t;
        }

        /** After a table's rules changed: the names they use now; tables nobody uses go. */
        void use(String table, Set<String> names) {
            boolean gone;
            synchronized (this) {
                usedBy.put(table, names);
                Set<String> all = new HashSet<>();
                usedBy.values().forEach(all::addAll);
                gone = byName.keySet().retainAll(all);
            }
            if (gone) {
                onChange.run();
            }
        }

        synchronized Table table(String name) {
            return byName.get(name);
        }

        synchronized List<String> names() {
            return new ArrayList<>(byName.keySet());
        }
    }

    // ------------------------------------------------------------------ the match

    /** The match of one rule: its key, and one token a packet from its key's bucket. */
    static final class Match implements org.modnet.netfilter.Match {
        final Cfg cfg;
        final Table table;
        private final int srcMask, dstMask;
        private final long interval, tolerance;

        Match(Cfg cfg, Table table) {
            this.cfg = cfg;
            this.table = table;
            this.srcMask = cfg.srcmask == 0 ? 0 : -1 << (32 - cfg.srcmask);
            this.dstMask = cfg.dstmask == 0 ? 0 : -1 << (32 - cfg.dstmask);
            this.interval = cfg.avg * (1_000_000_000L / SCALE);
            this.tolerance = (cfg.burst - 1) * interval;
        }

        @Override
        public boolean matches(SkBuff skb, int nh, int th, int proto) {
            return test(skb, nh, th, proto) > 0;
        }

        @Override
        public int test(SkBuff skb, int nh, int th, int proto) {
            int m = cfg.mode;
            long src = (m & MODE_SIP) != 0 ? skb.getU32(nh + 12) & srcMask : 0;
            long dst = (m & MODE_DIP) != 0 ? skb.getU32(nh + 16) & dstMask : 0;
            int sp = 0, dp = 0;
            if ((m & (MODE_SPT | MODE_DPT)) != 0 && (proto == 6 || proto == 17 || proto == 132 || proto == 33 || proto == 136)) {
                if (th < 0) {
                    return HOTDROP; // hashlimit_init_dst: a fragment without its ports is dropped
                }
                sp = (m & MODE_SPT) != 0 ? skb.getU16(th) : 0;
                dp = (m & MODE_DPT) != 0 ? skb.getU16(th + 2) : 0;
            }
            long now = table.clock.getAsLong();
            int slot = table.find((src << 32) | (dst & 0xffffffffL), (sp << 16) | dp, now);
            if (slot < 0) {
                return HOTDROP;
            }
            boolean underLimit = table.take(slot, now, interval, tolerance);
            return underLimit != cfg.above ? 1 : 0;
        }

        /** print_rate: the largest unit the rate is whole in; returns that unit in milliseconds. */
        static long rate(StringBuilder b, long avg) {
            String[] units = { "day", "hour", "min", "sec" };
            long[] mult = { 86400 * SCALE, 3600 * SCALE, 60 * SCALE, SCALE };
            int i;
            for (i = 1; i < mult.length; i++) {
                if (avg > mult[i] || mult[i] / avg < mult[i] % avg) {
                    break;
                }
            }
            b.append(' ').append(mult[i - 1] / avg).append('/').append(units[i - 1]);
            return mult[i - 1] / SCALE * 1000;
        }

        private static void mode(StringBuilder b, int mode, char sep) {
            boolean first = true;
            b.append(' ');
            for (int k = 0; k < MODE_NAMES.length; k++) {
                if ((mode & (1 << k)) != 0) {
                    b.append(first ? "" : String.valueOf(sep)).append(MODE_NAMES[k]);
                    first = false;
                }
            }
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m hashlimit").append(cfg.above ? " --hashlimit-above" : " --hashlimit-upto");
            long quantum = rate(b, cfg.avg);
            b.append(" --hashlimit-burst ").append(cfg.burst);
            if (cfg.mode != 0) {
                b.append(" --hashlimit-mode");
                mode(b, cfg.mode, ',');
            }
            b.append(" --hashlimit-name ").append(cfg.name);
            tail(b, quantum, "--hashlimit-");
        }

        private void tail(StringBuilder b, long quantum, String prefix) {
            if (cfg.size != 0) {
                b.append(' ').append(prefix).append("htable-size ").append(cfg.size);
            }
            if (cfg.max != 0) {
                b.append(' ').append(prefix).append("htable-max ").append(cfg.max);
            }
            if (cfg.gcinterval != GCINTERVAL) {
                b.append(' ').append(prefix).append("htable-gcinterval ").append(cfg.gcinterval);
            }
            if (cfg.expire != quantum) {
                b.append(' ').append(prefix).append("htable-expire ").append(cfg.expire);
            }
            if (cfg.srcmask != 32) {
                b.append(' ').append(prefix).append("srcmask ").append(cfg.srcmask);
            }
            if (cfg.dstmask != 32) {
                b.append(' ').append(prefix).append("dstmask ").append(cfg.dstmask);
            }
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(cfg.above ? " limit: above" : " limit: up to");
            long quantum = rate(b, cfg.avg);
            b.append(" burst ").append(cfg.burst);
            if (cfg.mode != 0) {
                b.append(" mode");
                mode(b, cfg.mode, '-');
            }
            tail(b, quantum, "");
        }
    }
}
