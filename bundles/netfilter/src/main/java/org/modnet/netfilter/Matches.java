package org.modnet.netfilter;

import org.modnet.api.skb.SkBuff;

/** The matches of this slice: tcp, udp, icmp, multiport, comment, length (libxt_*, xt_*.c). */
final class Matches {
    private Matches() {
    }

    /** {@code -m tcp} / {@code -m udp}: port ranges and, for tcp, {@code --tcp-flags}. */
    static final class Ports implements Match {
        final int proto;
        int sportLo = 0, sportHi = 0xffff, dportLo = 0, dportHi = 0xffff;
        boolean sportInv, dportInv, sportSet, dportSet;
        int flagMask, flagCmp;
        boolean flagSet, flagInv;

        Ports(int proto) {
            this.proto = proto;
        }

        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            if (th < 0) {
                return false; // a non-first fragment carries no ports (xt_tcpudp drops the match)
            }
            int sp = skb.getU16(th);
            int dp = skb.getU16(th + 2);
            if (((sp >= sportLo && sp <= sportHi) ^ sportInv) && ((dp >= dportLo && dp <= dportHi) ^ dportInv)) {
                if (!flagSet) {
                    return true;
                }
                int flags = skb.getU8(th + 13);
                return ((flags & flagMask) == flagCmp) ^ flagInv;
            }
            return false;
        }

        private String range(int lo, int hi, boolean numeric) {
            return lo == hi ? Names.service(lo, numeric, proto) : Names.service(lo, numeric, proto) + ":" + Names.service(hi, numeric, proto);
        }

        private static String flags(int v) {
            if (v == 0) {
                return "NONE";
            }
            if (v == 0x3f) {
                return "ALL";
            }
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                if ((v & (1 << i)) != 0) {
                    b.append(b.isEmpty() ? "" : ",").append(Names.TCP_FLAGS[i]);
                }
            }
            return b.toString();
        }

        @Override
        public void save(StringBuilder b) {
            b.append(proto == 6 ? " -m tcp" : " -m udp");
            if (sportSet) {
                b.append(sportInv ? " ! --sport " : " --sport ").append(range(sportLo, sportHi, true));
            }
            if (dportSet) {
                b.append(dportInv ? " ! --dport " : " --dport ").append(range(dportLo, dportHi, true));
            }
            if (flagSet) {
                b.append(flagInv ? " ! --tcp-flags " : " --tcp-flags ").append(flags(flagMask)).append(' ')
                        .append(flags(flagCmp));
            }
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(proto == 6 ? " tcp" : " udp");
            if (sportSet) {
                b.append(sportLo == sportHi ? " spt:" : " spts:").append(sportInv ? "!" : "")
                        .append(range(sportLo, sportHi, numeric));
            }
            if (dportSet) {
                b.append(dportLo == dportHi ? " dpt:" : " dpts:").append(dportInv ? "!" : "")
                        .append(range(dportLo, dportHi, numeric));
            }
            if (flagSet) {
                b.append(" flags:").append(flagInv ? "!" : "");
                if (numeric) {
                    b.append(String.format("0x%02X/0x%02X", flagMask, flagCmp));
                } else {
                    b.append(flags(flagMask)).append('/').append(flags(flagCmp));
                }
            }
        }
    }

    /** {@code -m icmp --icmp-type}. */
    static final class Icmp implements Match {
        int type = 0xff, codeMin = 0, codeMax = 0xff;
        boolean inv;

        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            if (th < 0) {
                return false;
            }
            int t = skb.getU8(th);
            int c = skb.getU8(th + 1);
            boolean m = type == 0xff || (t == type && c >= codeMin && c <= codeMax);
            return m ^ inv;
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m icmp");
            if (inv) {
                b.append(" !");
            }
            if (type == 0xff) {
                b.append(" --icmp-type any");
            } else {
                b.append(" --icmp-type ").append(type);
                if (codeMin != 0 || codeMax != 0xff) {
                    b.append('/').append(codeMin);
                }
            }
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            if (!numeric) {
                for (Names.IcmpName n : Names.ICMP) {
                    if (n.type() == type && n.codeMin() == codeMin && n.codeMax() == codeMax) {
                        b.append(" icmp ").append(inv ? "!" : "").append(n.name());
                        return;
                    }
                }
            }
            b.append(" icmp").append(inv ? " !" : "").append("type ").append(type);
            if (codeMin == codeMax) {
                b.append(" code ").append(codeMin);
            } else if (codeMin != 0 || codeMax != 0xff) {
                b.append(" codes ").append(codeMin).append('-').append(codeMax);
            }
        }
    }

    /** {@code -m multiport --sports|--dports|--ports a,b:c} (xt_multiport v1). */
    static final class Multiport implements Match {
        static final int SRC = 0, DST = 1, ANY = 2;
        final int dir, proto;
        final int[] lo, hi;
        final boolean inv;

        Multiport(int proto, int dir, int[] lo, int[] hi, boolean inv) {
            this.proto = proto;
            this.dir = dir;
            this.lo = lo;
            this.hi = hi;
            this.inv = inv;
        }

        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            if (th < 0) {
                return false;
            }
            int sp = skb.getU16(th);
            int dp = skb.getU16(th + 2);
            for (int i = 0; i < lo.length; i++) {
                boolean s = sp >= lo[i] && sp <= hi[i];
                boolean d = dp >= lo[i] && dp <= hi[i];
                if ((dir == SRC && s) || (dir == DST && d) || (dir == ANY && (s || d))) {
                    return !inv;
                }
            }
            return inv;
        }

        private String ports(boolean numeric) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < lo.length; i++) {
                b.append(i == 0 ? "" : ",").append(Names.service(lo[i], numeric, proto));
                if (hi[i] != lo[i]) {
                    b.append(':').append(Names.service(hi[i], numeric, proto));
                }
            }
            return b.toString();
        }

        private String word() {
            return dir == SRC ? "sports" : dir == DST ? "dports" : "ports";
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m multiport").append(inv ? " ! --" : " --").append(word()).append(' ').append(ports(true));
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(" multiport ").append(word()).append(' ').append(inv ? "!" : "").append(ports(numeric));
        }
    }

    /** {@code -m comment --comment TEXT}: matches everything. */
    record Comment(String text) implements Match {
        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            return true;
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m comment --comment ").append(quote(text));
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(" /* ").append(text).append(" */");
        }
    }

    /** {@code -m length --length a[:b]}: the IP datagram's total length. */
    record Length(int lo, int hi, boolean inv) implements Match {
        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            int len = skb.getU16(nh + 2);
            return (len >= lo && len <= hi) ^ inv;
        }

        private String range() {
            return lo == hi ? Integer.toString(lo) : lo + ":" + hi;
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m length").append(inv ? " ! --length " : " --length ").append(range());
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(" length ").append(inv ? "!" : "").append(range());
        }
    }

    /**
     * iptables-save's quoting of a string argument: bare when it is one plain word, else in double
     * quotes with {@code "} and {@code \} escaped.
     */
    static String quote(String s) {
        boolean plain = !s.isEmpty();
        for (int i = 0; i < s.length() && plain; i++) {
            char c = s.charAt(i);
            plain = Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':';
        }
        if (plain) {
            return s;
        }
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /**
     * {@code -m conntrack --ctstate} and {@code -m state --state} (xt_conntrack.c, xt_state.c): the
     * connection-tracking state conntrack left on the skb ({@code skb->_nfct}'s ctinfo).
     */
    static final class CtState implements Match {
        static final String[] NAMES = { "INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED" };
        static final int INVALID = 1, NEW = 2, RELATED = 4, ESTABLISHED = 8, UNTRACKED = 16;
        /** conntrack's form ({@code --ctstate}, {@code ctstate}) or state's ({@code --state}, {@code state}). */
        final boolean state;
        int mask;
        boolean inv;

        CtState(boolean state) {
            this.state = state;
        }

        /** The state bit of a packet's ctinfo. */
        static int bit(int info) {
            if (info == SkBuff.NFCT_NONE) {
                return INVALID;
            }
            if (info == SkBuff.IP_CT_UNTRACKED) {
                return UNTRACKED;
            }
            return switch (info % SkBuff.IP_CT_IS_REPLY) {
                case SkBuff.IP_CT_ESTABLISHED -> ESTABLISHED;
                case SkBuff.IP_CT_RELATED -> RELATED;
                default -> NEW;
            };
        }

        @Override
        public boolean matches(SkBuff skb, int nh, int th, int proto) {
            return ((bit(skb.nfctInfo()) & mask) != 0) ^ inv;
        }

        /** Parses {@code NEW,ESTABLISHED} (any case); false for an unknown word. */
        boolean parse(String list) {
            for (String w : list.split(",")) {
                int k = java.util.Arrays.asList(NAMES).indexOf(w.toUpperCase(java.util.Locale.ROOT));
                if (k < 0) {
                    return false;
                }
                mask |= 1 << k;
            }
            return true;
        }

        private String words() {
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < NAMES.length; k++) {
                if ((mask & (1 << k)) != 0) {
                    b.append(b.isEmpty() ? "" : ",").append(NAMES[k]);
                }
            }
            return b.toString();
        }

        @Override
        public void save(StringBuilder b) {
            b.append(state ? " -m state" : " -m conntrack").append(inv ? " !" : "").append(state ? " --state " : " --ctstate ")
                    .append(words());
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(inv ? " !" : "").append(state ? " state " : " ctstate ").append(words());
        }
    }

    /** {@code -m mark --mark V[/M]} (xt_mark): {@code (skb->mark & mask) == value}. */
    record Mark(int value, int mask, boolean inv) implements Match {
        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            return ((skb.mark() & mask) == value) ^ inv;
        }

        static String words(int value, int mask) {
            return "0x" + Integer.toHexString(value) + (mask == -1 ? "" : "/0x" + Integer.toHexString(mask));
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m mark").append(inv ? " ! --mark " : " --mark ").append(words(value, mask));
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(" mark match ").append(inv ? "! " : "").append(words(value, mask));
        }
    }

    /** {@code -m connmark --mark V[/M]} (xt_connmark): the connection's mark; no connection, no match. */
    record Connmark(int value, int mask, boolean inv) implements Match {
        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            if (!(skb.nfct() instanceof org.modnet.api.netfilter.NfConnMark ct)) {
                return false;
            }
            return ((ct.mark() & mask) == value) ^ inv;
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m connmark").append(inv ? " ! --mark " : " --mark ").append(Mark.words(value, mask));
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            // libxt_connmark prints the inversion's place even when there is none: two spaces
            b.append(" connmark match ").append(inv ? "!" : "").append(' ').append(Mark.words(value, mask));
        }
    }

    /**
     * {@code -m limit --limit N/unit --limit-burst B} (xt_limit): a token bucket of B packets refilled at
     * the rate. Kept as the generic cell rate algorithm, one theoretical arrival time updated by
     * compare-and-set, which admits exactly what xt_limit's credit bucket admits, without its lock.
     * The rule owns it, so the bucket carries over when the ruleset around it is replaced.
     */
    static final class Limit implements Match {
        /** XT_LIMIT_SCALE: {@code avg} counts ten-thousandths of a second per packet. */
        static final int SCALE = 10000;
        static final int DEFAULT_BURST = 5;
        final int avg;
        final int burst;
        private final long interval, tolerance;
        private final java.util.function.LongSupplier clock;
        private final java.util.concurrent.atomic.AtomicLong tat = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);

        Limit(int avg, int burst, java.util.function.LongSupplier clock) {
            this.avg = avg;
            this.burst = burst;
            this.clock = clock;
            this.interval = avg * (1_000_000_000L / SCALE);
            this.tolerance = (burst - 1) * interval;
        }

        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            long now = clock.getAsLong();
            while (true) {
                long t = tat.get();
                long start = t == Long.MIN_VALUE || t - now < 0 ? now : t;
                if (start - now > tolerance) {
                    return false; // the bucket is empty: the packet goes on to the next rule
                }
                if (tat.compareAndSet(t, start + interval)) {
                    return true;
                }
            }
        }

        private static final String[] UNITS = { "day", "hour", "min", "sec" };
        private static final long[] MULT = { 86400L * SCALE, 3600L * SCALE, 60L * SCALE, SCALE };

        /** libxt_limit's print_rate: the largest unit the rate is whole in. */
        static String rate(int avg) {
            int i;
            for (i = 1; i < MULT.length; i++) {
                if (avg > MULT[i] || MULT[i] / avg < MULT[i] % avg) {
                    break;
                }
            }
            return MULT[i - 1] / avg + "/" + UNITS[i - 1];
        }

        /** libxt_limit's parse_rate: {@code N[/second|minute|hour|day]} (any prefix of the unit) to avg. */
        static int parseRate(String s) {
            int slash = s.indexOf('/');
            long mult = 1;
            if (slash >= 0) {
                String u = s.substring(slash + 1).toLowerCase(java.util.Locale.ROOT);
                if (!u.isEmpty() && "second".startsWith(u)) {
                    mult = 1;
                } else if (!u.isEmpty() && "minute".startsWith(u)) {
                    mult = 60;
                } else if (!u.isEmpty() && "hour".startsWith(u)) {
                    mult = 3600;
                } else if (!u.isEmpty() && "day".startsWith(u)) {
                    mult = 86400;
                } else {
                    throw Iptables.syntax("bad rate \"" + s + "\"'");
                }
            }
            long r;
            try {
                r = Long.parseLong(slash >= 0 ? s.substring(0, slash) : s);
            } catch (NumberFormatException e) {
                throw Iptables.syntax("bad rate \"" + s + "\"'");
            }
            if (r <= 0) {
                throw Iptables.syntax("bad rate \"" + s + "\"'");
            }
            long v = SCALE * mult / r;
            if (v == 0 || v > 0xffffffffL) {
                throw Iptables.syntax("Rate too fast \"" + s + "\"");
            }
            return (int) v;
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m limit --limit ").append(rate(avg));
            if (burst != DEFAULT_BURST) {
                b.append(" --limit-burst ").append(burst);
            }
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(" limit: avg ").append(rate(avg)).append(" burst ").append(burst);
        }
    }

    /**
     * {@code -m set [!] --match-set NAME src|dst[,...]} (xt_set revision 4's match): whether the set holds
     * the packet's key, each dimension from the source or destination the flags say.
     */
    static final class Set implements Match {
        String name;
        /** Volatile: replaced by the next ipset version's set of the name (FilterTable#relinkSets). */
        volatile org.modnet.api.netfilter.IpSet set;
        int dim, srcFlags;
        String flags;
        boolean inv;

        @Override
        public boolean matches(SkBuff skb, int nh, int th, int proto) {
            return set.test(skb, nh, th, proto, dim, srcFlags) ^ inv;
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m set").append(inv ? " !" : "").append(" --match-set ").append(name).append(' ').append(flags);
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(inv ? " ! match-set " : " match-set ").append(name).append(' ').append(flags);
        }
    }

    /** libxt_set's parse_dirs: {@code src,dst,...} into a dimension count and the source bits; null when malformed. */
    static int[] dirs(String flags) {
        String[] w = flags.split(",", -1);
        if (w.length > 6) {
            throw Iptables.syntax("Can't be more src/dst options than 6.");
        }
        int src = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i].equals("src")) {
                src |= 1 << i;
            } else if (!w[i].equals("dst")) {
                throw Iptables.syntax("You must spefify (the comma separated list of) 'src' or 'dst'.");
            }
        }
        return new int[] { w.length, src };
    }
}
