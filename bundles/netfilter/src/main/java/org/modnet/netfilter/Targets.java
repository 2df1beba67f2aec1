package org.modnet.netfilter;

import java.util.List;

import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfConnMark;
import org.modnet.api.skb.Checksum;
import org.modnet.api.skb.SkBuff;

/**
 * The mangle and raw tables' targets (xt_MARK.c, xt_CONNMARK.c, xt_CT.c, xt_TCPMSS.c and their
 * libxt_* parsers): each changes the packet or its connection and lets the rules go on
 * ({@code XT_CONTINUE}). The packet path allocates nothing here.
 */
final class Targets {
    static final int CONNMARK_SET = 0, CONNMARK_SAVE = 1, CONNMARK_RESTORE = 2;
    /** XT_TCPMSS_CLAMP_PMTU: {@code --clamp-mss-to-pmtu}. */
    static final int CLAMP_PMTU = 0xffff;
    static final int TTL_SET = 0, TTL_INC = 1, TTL_DEC = 2;
    /** The targets that take options of their own. */
    static final java.util.Set<Rule.Kind> TAKES_OPTIONS = java.util.EnumSet.of(Rule.Kind.MARK, Rule.Kind.CONNMARK,
            Rule.Kind.CT, Rule.Kind.TCPMSS, Rule.Kind.TOS, Rule.Kind.DSCP, Rule.Kind.TTL, Rule.Kind.NFQUEUE);
    /** libxt_TOS's symbolic values (each with the mask 0x3f), in its order. */
    private static final String[] TOS_NAMES = { "Minimize-Delay", "Maximize-Throughput", "Maximize-Reliability",
            "Minimize-Cost", "Normal-Service" };
    private static final int[] TOS_VALUES = { 0x10, 0x08, 0x04, 0x02, 0x00 };
    /** libxt_dscp's class names and their code points. */
    private static final java.util.Map<String, Integer> DSCP_CLASSES = java.util.Map.ofEntries(
            java.util.Map.entry("CS0", 0), java.util.Map.entry("CS1", 8), java.util.Map.entry("CS2", 16),
            java.util.Map.entry("CS3", 24), java.util.Map.entry("CS4", 32), java.util.Map.entry("CS5", 40),
            java.util.Map.entry("CS6", 48), java.util.Map.entry("CS7", 56), java.util.Map.entry("BE", 0),
            java.util.Map.entry("AF11", 10), java.util.Map.entry("AF12", 12), java.util.Map.entry("AF13", 14),
            java.util.Map.entry("AF21", 18), java.util.Map.entry("AF22", 20), java.util.Map.entry("AF23", 22),
            java.util.Map.entry("AF31", 26), java.util.Map.entry("AF32", 28), java.util.Map.entry("AF33", 30),
            java.util.Map.entry("AF41", 34), java.util.Map.entry("AF42", 36), java.util.Map.entry("AF43", 38),
            java.util.Map.entry("EF", 46));
    /** The connection an untracked packet carries ({@code nf_ct_set(skb, NULL, IP_CT_UNTRACKED)}). */
    static final Object UNTRACKED = new Object() {
        @Override
        public String toString() {
            return "untracked";
        }
    };

    private Targets() {
    }

    // ------------------------------------------------------------------ packet path

    /** xt_MARK's mark_tg: {@code skb->mark = (skb->mark & ~mask) ^ mark}. */
    static void mark(Rule r, SkBuff skb) {
        skb.mark((skb.mark() & ~r.markMask) ^ r.markValue);
    }

    /** xt_CONNMARK's connmark_tg_shift (without the shift): nothing without a tracked connection. */
    static void connmark(Rule r, SkBuff skb) {
        if (!(skb.nfct() instanceof NfConnMark ct)) {
            return;
        }
        switch (r.connmarkMode) {
            case CONNMARK_SET -> {
                int m = (ct.mark() & ~r.markMask) ^ r.markValue;
                if (ct.mark() != m) {
                    ct.mark(m);
                }
            }
            case CONNMARK_SAVE -> {
                int m = (ct.mark() & ~r.ctmask) ^ (skb.mark() & r.nfmask);
                if (ct.mark() != m) {
                    ct.mark(m);
                }
            }
            default -> skb.mark((skb.mark() & ~r.nfmask) ^ (ct.mark() & r.ctmask));
        }
    }

    /** xt_CT's ct_target with a template: a packet conntrack has not seen yet is tracked in the rule's zone. */
    static void ctTemplate(Rule r, SkBuff skb) {
        if (skb.nfct() == null && r.ctTemplate != null) {
            skb.nfct(r.ctTemplate, SkBuff.IP_CT_NEW);
        }
    }

    /** xt_CT's notrack_tg: a packet conntrack has not seen yet is left out of tracking. */
    static void notrack(SkBuff skb) {
        if (skb.nfct() == null) {
            skb.nfct(UNTRACKED, SkBuff.IP_CT_UNTRACKED);
        }
    }

    /**
     * xt_TCPMSS's tcpmss_mangle_packet: lowers the MSS option of a SYN to the rule's value or, with
     * {@code --clamp-mss-to-pmtu}, to the path MTU less 40 (here the smaller of the two devices' MTUs:
     * Linux asks the route both ways, modnet's routes carry the device's MTU). A larger MSS is kept, as
     * Linux keeps it. A SYN without the option gets one ({@link #insertMss}).
     * The checksum is fixed incrementally (RFC 1624), or left to the device when it is still partial.
     *
     * @return false when the packet must be dropped (a header shorter than its data offset, or no MTU)
     */
    static boolean tcpmss(Rule r, SkBuff skb, int nh, int th, NetDevice in, NetDevice out) {
        if (th < 0) {
            return true;
        }
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        int tcplen = skb.getU16(nh + 2) - ihl;
        int doff = (skb.getU8(th + 12) >>> 4) << 2;
        if (doff < 20 || tcplen < doff || th + doff > skb.tail()) {
            return false;
        }
        int newmss = r.mss;
        if (newmss == CLAMP_PMTU) {
            int mtu = out != null ? out.mtu() : 0;
            if (in != null && in.mtu() < mtu) {
                mtu = in.mtu();
            }
            if (mtu <= 40) {
                return false; // "unknown or invalid path-MTU"
            }
            newmss = mtu - 40;
        }
        for (int i = th + 20; i < th + doff;) {
            int kind = skb.getU8(i);
            if (kind == 0) {
                break;
            }
            if (kind == 1) {
                i++;
                continue;
            }
            if (i + 1 >= th + doff) {
                break;
            }
            int len = skb.getU8(i + 1);
            if (len < 2 || i + len > th + doff) {
                break;
            }
            if (kind == 2 && len == 4) {
                int oldmss = skb.getU16(i + 2);
                if (oldmss <= newmss) {
                    return true;
                }
                skb.setU16(i + 2, newmss);
                if (skb.ipSummed() != Checksum.PARTIAL) {
                    skb.setU16(th + 16, csumReplace16(skb.getU16(th + 16), oldmss, newmss));
                }
                return true;
            }
            i += len;
        }
        insertMss(skb, nh, th, tcplen, doff, newmss);
        return true;
    }

    /**
     * tcpmss_mangle_packet's second half: a SYN with no MSS option gets one, first among its options, of
     * the rule's value but at most 536 (RFC 1122's default for a peer that sent none), when nothing follows
     * the header (moving data could make the SYN too large) and the data offset can grow. The options
     * move back 4 bytes, the data offset, the IPv4 total length and both checksums are fixed incrementally
     * (a CHECKSUM_PARTIAL skb's check field holds the pseudo-header's sum: only the length goes into it).
     * Linux grows the skb when its tailroom is short; the packet path allocates nothing, so a linear skb
     * without 4 bytes of tailroom (never one from the pools, made with room) goes on unchanged.
     */
    private static void insertMss(SkBuff skb, int nh, int th, int tcplen, int doff, int newmss) {
        if (tcplen > doff || doff >= 60 || th + tcplen != skb.tail() || skb.tailroom() < 4 || skb.len() != skb.tail() - skb.data()) {
            return;
        }
        int mss = Math.min(newmss, 536);
        skb.put(4);
        for (int i = th + doff - 1; i >= th + 20; i--) {
            skb.setU8(i + 4, skb.getU8(i)); // memmove: the options 4 bytes on, 16-bit sums unchanged
        }
        skb.setU8(th + 20, 2);
        skb.setU8(th + 21, 4);
        skb.setU16(th + 22, mss);
        int oldWord = skb.getU16(th + 12);
        skb.setU8(th + 12, (skb.getU8(th + 12) & 0x0f) | ((doff + 4) >>> 2) << 4);
        int check = skb.getU16(th + 16);
        if (skb.ipSummed() == Checksum.PARTIAL) {
            check = ~csumReplace16(~check & 0xffff, tcplen, tcplen + 4) & 0xffff; // the pseudo-header's length
        } else {
            check = csumReplace16(check, tcplen, tcplen + 4);
            check = csumReplace16(check, 0, 0x0204);
            check = csumReplace16(check, 0, mss);
            check = csumReplace16(check, oldWord, skb.getU16(th + 12));
        }
        skb.setU16(th + 16, check);
        int totLen = skb.getU16(nh + 2);
        skb.setU16(nh + 2, totLen + 4);
        skb.setU16(nh + 10, csumReplace16(skb.getU16(nh + 10), totLen, totLen + 4));
    }

    /**
     * xt_TOS/xt_DSCP/xt_TTL (ipv4): the TOS byte or the TTL rewritten and the header checksum fixed
     * incrementally over the 16-bit word that holds it; nothing when the value stays.
     */
    static void ipHeader(Rule r, SkBuff skb, int nh) {
        int at = r.kind == Rule.Kind.TTL ? nh + 8 : nh + 1;
        int old = skb.getU8(at);
        int now;
        switch (r.kind) {
            case TOS -> now = ((old & ~r.markMask) ^ r.markValue) & 0xff;
            case DSCP -> now = (old & 0x3) | (r.dscp << 2);
            default -> {
                int v = switch (r.ttlMode) {
                    case TTL_SET -> r.ttlValue;
                    case TTL_INC -> old + r.ttlValue;
                    default -> old - r.ttlValue;
                };
                now = Math.max(0, Math.min(255, v));
            }
        }
        if (now == old) {
            return;
        }
        int word = (at - nh) & ~1;
        int before = skb.getU16(nh + word);
        skb.setU8(at, now);
        skb.setU16(nh + 10, csumReplace16(skb.getU16(nh + 10), before, skb.getU16(nh + word)));
    }

    /** RFC 1624 eqn. 3 ({@code csum_replace2}): HC' = ~(~HC + ~m + m'). */
    static int csumReplace16(int check, int old, int now) {
        int s = (~check & 0xffff) + (~old & 0xffff) + (now & 0xffff);
        s = (s & 0xffff) + (s >>> 16);
        s = (s & 0xffff) + (s >>> 16);
        return ~s & 0xffff;
    }

    // ------------------------------------------------------------------ -S and -L

    private static String hex(int v) {
        return "0x" + Integer.toHexString(v);
    }

    static void save(Rule r, StringBuilder b) {
        switch (r.kind) {
            case MARK -> b.append(" -j MARK --set-xmark ").append(hex(r.markValue)).append('/').append(hex(r.markMask));
            case CONNMARK -> {
                b.append(" -j CONNMARK");
                switch (r.connmarkMode) {
                    case CONNMARK_SET -> b.append(" --set-xmark ").append(hex(r.markValue)).append('/').append(hex(r.markMask));
                    default -> b.append(r.connmarkMode == CONNMARK_SAVE ? " --save-mark" : " --restore-mark")
                            .append(" --nfmask ").append(hex(r.nfmask)).append(" --ctmask ").append(hex(r.ctmask));
                }
            }
            case NOTRACK -> b.append(" -j NOTRACK");
            case CT -> b.append(r.notrack ? " -j CT --notrack" : " -j CT")
                    .append(r.ctTemplate != null ? " --zone " + r.ctTemplate.zone() : "");
            case TCPMSS -> b.append(" -j TCPMSS").append(r.mss == CLAMP_PMTU ? " --clamp-mss-to-pmtu" : " --set-mss " + r.mss);
            case TOS -> b.append(String.format(" -j TOS --set-tos 0x%02x/0x%02x", r.markValue, r.markMask));
            case DSCP -> b.append(String.format(" -j DSCP --set-dscp 0x%02x", r.dscp));
            case TTL -> b.append(" -j TTL --ttl-").append(r.ttlMode == TTL_SET ? "set " : r.ttlMode == TTL_INC ? "inc " : "dec ")
                    .append(r.ttlValue);
            default -> { }
        }
    }

    /** libxt_MARK's mark_tg_print: the simplest word for the pair. */
    private static void markWords(StringBuilder b, int value, int mask) {
        if (mask == -1) {
            b.append(" set ").append(hex(value));
        } else if (value == 0) {
            b.append(" and ").append(hex(~mask));
        } else if (value == mask) {
            b.append(" or ").append(hex(value));
        } else if (mask == 0) {
            b.append(" xor ").append(hex(value));
        } else {
            b.append(" xset ").append(hex(value)).append('/').append(hex(mask));
        }
    }

    static void list(Rule r, StringBuilder b, boolean numeric) {
        switch (r.kind) {
            case TOS -> {
                int v = r.markValue, m = r.markMask;
                if (numeric) {
                    b.append(String.format(" TOS set 0x%02x/0x%02x", v, m));
                    return;
                }
                if (m == 0x3f) {
                    for (int i = 0; i < TOS_NAMES.length; i++) {
                        if (TOS_VALUES[i] == v) {
                            b.append("  TOS set").append(TOS_NAMES[i]); // libxt_TOS prints it so
                            return;
                        }
                    }
                }
                if (v == 0) {
                    b.append(String.format(" TOS and 0x%02x", ~m & 0xff));
                } else if (v == m) {
                    b.append(String.format(" TOS or 0x%02x", v));
                } else if (m == 0) {
                    b.append(String.format(" TOS xor 0x%02x", v));
                } else {
                    b.append(String.format(" TOS set 0x%02x/0x%02x", v, m));
                }
            }
            case DSCP -> b.append(String.format(" DSCP set 0x%02x", r.dscp));
            case TTL -> b.append(r.ttlMode == TTL_SET ? " TTL set to " : r.ttlMode == TTL_INC ? " TTL increment by "
                    : " TTL decrement by ").append(r.ttlValue);
            case MARK -> markWords(b.append(" MARK"), r.markValue, r.markMask);
            case CONNMARK -> {
                b.append(" CONNMARK");
                switch (r.connmarkMode) {
                    case CONNMARK_SET -> markWords(b, r.markValue, r.markMask);
                    case CONNMARK_SAVE -> {
                        b.append(" save");
                        if (r.nfmask == r.ctmask && r.nfmask != -1) {
                            b.append(" mask ").append(hex(r.nfmask));
                        } else if (r.nfmask != -1 || r.ctmask != -1) {
                            b.append(" nfmask ").append(hex(r.nfmask)).append(" ctmask ~").append(hex(r.ctmask));
                        }
                    }
                    default -> {
                        b.append(" restore");
                        if (r.nfmask == r.ctmask && r.nfmask != -1) {
                            b.append(" mask ").append(hex(r.nfmask));
                        } else if (r.nfmask != -1 || r.ctmask != -1) {
                            b.append(" ctmask ").append(hex(r.ctmask)).append(" nfmask ~").append(hex(r.nfmask));
                        }
                    }
                }
            }
            case NOTRACK -> b.append(" NOTRACK");
            case CT -> b.append(r.notrack ? " CT notrack" : " CT").append(r.ctTemplate != null ? " zone " + r.ctTemplate.zone() : "");
            case TCPMSS -> b.append(r.mss == CLAMP_PMTU ? " TCPMSS clamp to PMTU" : " TCPMSS set " + r.mss);
            default -> { }
        }
    }

    // ------------------------------------------------------------------ parsing

    /** The options these targets take; the parser hands them here once the target is known. */
    static final List<String> OPTIONS = List.of("--set-mark", "--set-xmark", "--and-mark", "--or-mark", "--xor-mark",
            "--save-mark", "--restore-mark", "--mask", "--nfmask", "--ctmask", "--notrack", "--set-mss",
            "--clamp-mss-to-pmtu", "--set-tos", "--and-tos", "--or-tos", "--xor-tos", "--set-dscp", "--set-dscp-class",
            "--ttl-set", "--ttl-dec", "--ttl-inc", "--zone", "--queue-num", "--queue-bypass");

    /** xtables_strtoui over a whole word: decimal, 0x hex or 0 octal, 0..2^32-1; -1L when it is not. */
    static long u32(String s) {
        try {
            long v = s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16)
                    : s.length() > 1 && s.startsWith("0") ? Long.parseLong(s.substring(1), 8) : Long.parseLong(s);
            return v < 0 || v > 0xffffffffL || s.startsWith("+") || s.startsWith("-") ? -1 : v;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code VALUE[/MASK]} of a mark option: value and mask (-1 when absent), in libxtables' words on error. */
    static int[] markPair(String ext, String opt, String v) {
        int slash = v.indexOf('/');
        String a = slash < 0 ? v : v.substring(0, slash);
        long val = u32(a);
        if (val < 0) {
            if (slash < 0 && a.contains("/")) {
                throw trailing(ext, opt);
            }
            throw Iptables.syntaxBlank(ext + ": bad integer value for option \"" + opt + "\", or out of range.");
        }
        if (slash < 0) {
            return new int[] { (int) val, -1 };
        }
        String m = v.substring(slash + 1);
        if (m.contains("/")) {
            throw trailing(ext, opt);
        }
        long mask = u32(m);
        if (mask < 0) {
            throw Iptables.syntaxBlank(ext + ": bad integer value for option \"" + opt + "\", or out of range.");
        }
        return new int[] { (int) val, (int) mask };
    }

    private static RuntimeException trailing(String ext, String opt) {
        return Iptables.syntaxBlank(ext + ": trailing garbage after value for option \"" + opt + "\".");
    }

    /** Applies one target option to the rule; {@code given} holds the options seen so far (for iptables' checks). */
    static void option(Rule r, String opt, java.util.function.Supplier<String> arg, List<String> given) {
        String ext = r.kind.name();
        if (given.contains(opt)) {
            throw Iptables.syntaxBlank(ext + ": option \"" + opt + "\" can only be used once.");
        }
        switch (r.kind) {
            case MARK -> {
                for (String g : given) {
                    throw Iptables.syntaxBlank("MARK: option \"" + g + "\" cannot be used together with \"" + opt + "\".");
                }
                int[] p = markPair(ext, opt, arg.get());
                switch (opt) {
                    case "--set-xmark" -> {
                        r.markValue = p[0];
                        r.markMask = p[1];
                    }
                    case "--set-mark" -> {
                        r.markValue = p[0];
                        r.markMask = p[1] | p[0];
                    }
                    case "--and-mark" -> {
                        r.markValue = 0;
                        r.markMask = ~p[0];
                    }
                    case "--or-mark" -> {
                        r.markValue = p[0];
                        r.markMask = p[0];
                    }
                    case "--xor-mark" -> {
                        r.markValue = p[0];
                        r.markMask = 0;
                    }
                    default -> throw Iptables.syntax("unknown option \"" + opt + "\"");
                }
            }
            case CONNMARK -> {
                boolean mode = opt.equals("--set-mark") || opt.equals("--set-xmark") || opt.equals("--save-mark")
                        || opt.equals("--restore-mark") || opt.equals("--and-mark") || opt.equals("--or-mark")
                        || opt.equals("--xor-mark");
                if (mode) {
                    for (String g : given) {
                        if (!g.endsWith("mask")) {
                            throw Iptables.syntaxBlank("CONNMARK: option \"" + g + "\" cannot be used together with \""
                                    + opt + "\".");
                        }
                    }
                }
                switch (opt) {
                    case "--save-mark", "--restore-mark" -> r.connmarkMode = opt.equals("--save-mark") ? CONNMARK_SAVE
                            : CONNMARK_RESTORE;
                    case "--mask", "--nfmask", "--ctmask" -> {
                        long m = u32(arg.get());
                        if (m < 0) {
                            throw Iptables.syntaxBlank("CONNMARK: bad integer value for option \"" + opt + "\", or out of range.");
                        }
                        if (!opt.equals("--ctmask")) {
                            r.nfmask = (int) m;
                        }
                        if (!opt.equals("--nfmask")) {
                            r.ctmask = (int) m;
                        }
                    }
                    default -> {
                        int[] p = markPair(ext, opt, arg.get());
                        r.connmarkMode = CONNMARK_SET;
                        switch (opt) {
                            case "--set-xmark" -> {
                                r.markValue = p[0];
                                r.markMask = p[1];
                            }
                            case "--set-mark" -> {
                                r.markValue = p[0];
                                r.markMask = p[1] | p[0];
                            }
                            case "--and-mark" -> {
                                r.markValue = 0;
                                r.markMask = ~p[0];
                            }
                            case "--or-mark" -> {
                                r.markValue = p[0];
                                r.markMask = p[0];
                            }
                            default -> {
                                r.markValue = p[0];
                                r.markMask = 0;
                            }
                        }
                    }
                }
            }
            case NFQUEUE -> {
                if (opt.equals("--queue-num")) {
                    long n = u32(arg.get());
                    if (n < 0 || n > 65535) {
                        throw Iptables.syntaxBlank("NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).");
                    }
                    r.queueNum = (int) n;
                } else if (opt.equals("--queue-bypass")) {
                    r.queueBypass = true;
                } else {
                    throw Iptables.syntax("unknown option \"" + opt + "\"");
                }
            }
            case CT -> {
                if (opt.equals("--zone")) {
                    String v = arg.get();
                    long z = u32(v);
                    if (z < 0 || z > 65535) {
                        throw Iptables.syntaxBlank("Cannot parse " + v + " as a zone ID");
                    }
                    // libxt_CT keeps zone 0 as no zone: -S prints no --zone for it
                    r.ctTemplate = z == 0 ? null : new org.modnet.api.netfilter.NfCtTemplate((int) z);
                } else if (opt.equals("--notrack")) {
                    r.notrack = true;
                } else {
                    throw Iptables.syntax("unknown option \"" + opt + "\"");
                }
            }
            case TCPMSS -> {
                if (opt.equals("--clamp-mss-to-pmtu")) {
                    r.mss = CLAMP_PMTU; // the last of the two options wins, as in libxt_TCPMSS
                } else if (opt.equals("--set-mss")) {
                    long m = u32(arg.get());
                    if (m < 0 || m > 65535 - 20) {
                        throw Iptables.syntaxBlank("TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).");
                    }
                    r.mss = (int) m;
                } else {
                    throw Iptables.syntax("unknown option \"" + opt + "\"");
                }
            }
            case TOS -> {
                for (String g : given) {
                    throw Iptables.syntaxBlank("TOS: option \"" + g + "\" cannot be used together with \"" + opt + "\".");
                }
                String v = arg.get();
                int value, mask = 0xff;
                int slash = v.indexOf('/');
                long n = u32(slash < 0 ? v : v.substring(0, slash));
                if (n >= 0 && n <= 0xff) {
                    value = (int) n;
                    if (slash >= 0) {
                        long m = u32(v.substring(slash + 1));
                        if (m < 0 || m > 0xff) {
                            throw Iptables.syntax("Symbolic name \"" + v + "\" is unknown");
                        }
                        mask = (int) m;
                    }
                } else {
                    int k = opt.equals("--set-tos") ? java.util.Arrays.asList(TOS_NAMES).indexOf(v) : -1;
                    if (k < 0) {
                        throw Iptables.syntax("Symbolic name \"" + v + "\" is unknown");
                    }
                    value = TOS_VALUES[k];
                    mask = 0x3f;
                }
                switch (opt) {
                    case "--set-tos" -> {
                        r.markValue = value;
                        r.markMask = mask;
                    }
                    case "--and-tos" -> {
                        r.markValue = 0;
                        r.markMask = ~value & 0xff;
                    }
                    case "--or-tos" -> {
                        r.markValue = value;
                        r.markMask = value;
                    }
                    default -> {
                        r.markValue = value;
                        r.markMask = 0;
                    }
                }
            }
            case DSCP -> {
                for (String g : given) {
                    throw Iptables.syntaxBlank("DSCP: option \"" + g + "\" cannot be used together with \"" + opt + "\".");
                }
                String v = arg.get();
                if (opt.equals("--set-dscp-class")) {
                    Integer c = DSCP_CLASSES.get(v.toUpperCase(java.util.Locale.ROOT));
                    if (c == null) {
                        throw Iptables.syntax("Invalid DSCP value `" + v + "'");
                    }
                    r.dscp = c;
                } else {
                    long d = u32(v);
                    if (d < 0 || d > 63) {
                        throw Iptables.syntaxBlank("DSCP: bad value for option \"--set-dscp\", or out of range (0-63).");
                    }
                    r.dscp = (int) d;
                }
            }
            case TTL -> {
                for (String g : given) {
                    throw Iptables.syntaxBlank("TTL: option \"" + g + "\" cannot be used together with \"" + opt + "\".");
                }
                long t = u32(arg.get());
                int lo = opt.equals("--ttl-set") ? 0 : 1;
                if (t < lo || t > 255) {
                    throw Iptables.syntaxBlank("TTL: bad value for option \"" + opt + "\", or out of range (" + lo + "-255).");
                }
                r.ttlMode = opt.equals("--ttl-set") ? TTL_SET : opt.equals("--ttl-inc") ? TTL_INC : TTL_DEC;
                r.ttlValue = (int) t;
            }
            default -> throw Iptables.syntax("unknown option \"" + opt + "\"");
        }
        given.add(opt);
    }

    /** The final checks of libxt_MARK, _CONNMARK, _TCPMSS (x6_fcheck) once the line is read. */
    static void check(Rule r, List<String> given) {
        switch (r.kind) {
            case MARK -> {
                if (given.isEmpty()) {
                    throw Iptables.syntax("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required");
                }
            }
            case CONNMARK -> {
                if (r.connmarkMode < 0) {
                    throw Iptables.syntax("CONNMARK target: No operation specified");
                }
                if (r.connmarkMode != CONNMARK_SET) {
                    // --save-mark/--restore-mark without a mask: all bits
                    r.markValue = 0;
                    r.markMask = 0;
                } else {
                    r.nfmask = -1;
                    r.ctmask = -1;
                }
            }
            case TCPMSS -> {
                if (given.isEmpty()) {
                    throw Iptables.syntax("TCPMSS target: At least one parameter is required");
                }
            }
            case TOS -> {
                if (given.isEmpty()) {
                    throw Iptables.syntax("TOS: An action is required");
                }
            }
            case DSCP -> {
                if (given.isEmpty()) {
                    throw Iptables.syntax("DSCP target: Parameter --set-dscp is required");
                }
            }
            case TTL -> {
                if (given.isEmpty()) {
                    throw Iptables.syntax("TTL: You must specify an action");
                }
            }
            default -> { }
        }
    }
}
