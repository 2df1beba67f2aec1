package org.modnet.netfilter;

import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/**
 * One rule ({@code struct ipt_entry}): the IPv4 header part ({@code struct ipt_ip}), its matches in the
 * order given, a target, and its packet and byte counters. Immutable but for the counters, so a
 * snapshot of a chain can share it with the next one and keep its counts.
 */
final class Rule {
    enum Kind {
        ACCEPT, DROP, RETURN, JUMP, GOTO, REJECT, LOG, SNAT, DNAT, MASQUERADE, REDIRECT, MARK, CONNMARK, NOTRACK, CT, TCPMSS, TOS,
        DSCP, TTL, SET, NFQUEUE, QUEUE,
        NONE
    }

    int src, srcMask, dst, dstMask;
    boolean srcInv, dstInv;
    int proto; // 0: all
    boolean protoInv;
    String in, out; // null: any
    boolean inInv, outInv;
    /** {@code -f} ({@code IPT_F_FRAG}): second and later fragments only; with {@code fragInv} ({@code ! -f}) the others. */
    boolean frag, fragInv;
    Match[] matches = new Match[0];
    Kind kind = Kind.NONE;
    String target; // the chain of a jump or goto, or the target's name
    String rejectWith = "icmp-port-unreachable";
    String logPrefix; // null: none
    int logLevel = 4;
    /** SNAT/DNAT/MASQUERADE/REDIRECT: the range (addresses 0: kept; ports 0: kept) and NfNat's flags. */
    int natMinAddr, natMaxAddr, natMinPort, natMaxPort, natFlags;
    /** The range as given ({@code 10.0.0.1:1000-2000}), printed back by -S and -L. */
    String natTo;

    /**
     * MARK and CONNMARK {@code --set-xmark}: the new mark is {@code (old & ~markMask) ^ markValue}, as
     * xt_MARK and xt_CONNMARK compute it; every other form ({@code --set-mark}, {@code --and-mark}, ...)
     * is one of these pairs.
     */
    int markValue, markMask;
    /** CONNMARK's mode: {@link Targets#CONNMARK_SET}, {@code _SAVE} or {@code _RESTORE}, and its masks. */
    int connmarkMode = -1, nfmask = -1, ctmask = -1;
    /** TOS keeps its pair in markValue/markMask (the TOS byte becomes {@code (tos & ~mask) ^ value}). */
    /** DSCP: the code point; TTL: {@link Targets#TTL_SET}, {@code _DEC} or {@code _INC} and its value. */
    int dscp, ttlMode = -1, ttlValue;
    /** CT: {@code --notrack} given. */
    boolean notrack;
    /** CT: {@code --zone N}'s template (one per rule, shared by its packets), null without it. */
    org.modnet.api.netfilter.NfCtTemplate ctTemplate;
    /** NFQUEUE: the queue number and {@code --queue-bypass} (QUEUE is queue 0 without bypass). */
    int queueNum;
    boolean queueBypass;
    /** TCPMSS: the MSS to set, or {@link Targets#CLAMP_PMTU}; 0 while neither option is given. */
    int mss;

    /** SET: the set {@code --add-set} and {@code --del-set} name (null: none), {@code --exist}, {@code --timeout} (-1: the set's). */
    Matches.Set addSet, delSet;
    boolean setExist;
    int setTimeout = -1;

    /** Resolved when a snapshot is built: the index of the chain a JUMP or GOTO goes to. */
    int targetChain = -1;

    AtomicLong packets = new AtomicLong();
    AtomicLong bytes = new AtomicLong();

    /** The same rule (sharing its counters) with its jump resolved to another chain index. */
    Rule withTargetChain(int t) {
        Rule r = new Rule();
        r.src = src; r.srcMask = srcMask; r.dst = dst; r.dstMask = dstMask; r.srcInv = srcInv; r.dstInv = dstInv;
        r.proto = proto; r.protoInv = protoInv; r.in = in; r.out = out; r.inInv = inInv; r.outInv = outInv;
        r.frag = frag; r.fragInv = fragInv;
        r.matches = matches; r.kind = kind; r.target = target; r.rejectWith = rejectWith; r.logPrefix = logPrefix;
        r.logLevel = logLevel; r.natMinAddr = natMinAddr; r.natMaxAddr = natMaxAddr; r.natMinPort = natMinPort;
        r.natMaxPort = natMaxPort; r.natFlags = natFlags; r.natTo = natTo; r.markValue = markValue; r.markMask = markMask; r.connmarkMode = connmarkMode;
        r.nfmask = nfmask; r.ctmask = ctmask; r.notrack = notrack; r.ctTemplate = ctTemplate; r.queueNum = queueNum; r.queueBypass = queueBypass; r.mss = mss; r.dscp = dscp; r.ttlMode = ttlMode;
        r.ttlValue = ttlValue; r.addSet = addSet; r.delSet = delSet; r.setExist = setExist; r.setTimeout = setTimeout;
        r.packets = packets; r.bytes = bytes; r.targetChain = t;
        return r;
    }

    /** The header part and every match: does the packet match (the target is not applied here). */
    boolean matches(SkBuff skb, int nh, int th, int p, NetDevice indev, NetDevice outdev) {
        return test(skb, nh, th, p, indev, outdev) > 0;
    }

    /** As {@link #matches}: 1 or 0, or {@link Match#HOTDROP} when a match drops the packet itself. */
    int test(SkBuff skb, int nh, int th, int p, NetDevice indev, NetDevice outdev) {
        if (((skb.getU32(nh + 12) & srcMask) == src) == srcInv) {
            return 0;
        }
        if (((skb.getU32(nh + 16) & dstMask) == dst) == dstInv) {
            return 0;
        }
        if (proto != 0 && (p == proto) == protoInv) {
            return 0;
        }
        if (in != null && ifMatch(in, indev) == inInv) {
            return 0;
        }
        if (out != null && ifMatch(out, outdev) == outInv) {
            return 0;
        }
        if (frag && ((skb.getU16(nh + 6) & 0x1fff) != 0) == fragInv) {
            return 0; // ip_packet_match: -f wants a fragment offset, ! -f none
        }
        for (Match m : matches) {
            int v = m.test(skb, nh, th, p);
            if (v <= 0) {
                return v;
            }
        }
        return 1;
    }

    /** iptables' interface names: exact, or a prefix with a trailing {@code +}. */
    static boolean ifMatch(String pattern, NetDevice dev) {
        if (dev == null) {
            return false;
        }
        String name = dev.name();
        int n = pattern.length();
        if (n > 0 && pattern.charAt(n - 1) == '+') {
            return name.regionMatches(0, pattern, 0, n - 1);
        }
        return name.equals(pattern);
    }

    private static String cidr(int a, int mask) {
        return Names.addr(a) + "/" + Integer.bitCount(mask);
    }

    /** The rule as {@code iptables -S} prints it after {@code -A CHAIN}. */
    String save() {
        return save(false);
    }

    /** As {@link #save()}; with {@code counters}, {@code -S -v}'s {@code -c PKTS BYTES} before the target. */
    String save(boolean counters) {
        StringBuilder b = new StringBuilder();
        if (srcMask != 0 || src != 0) {
            b.append(srcInv ? " ! -s " : " -s ").append(cidr(src, srcMask));
        }
        if (dstMask != 0 || dst != 0) {
            b.append(dstInv ? " ! -d " : " -d ").append(cidr(dst, dstMask));
        }
        if (in != null) {
            b.append(inInv ? " ! -i " : " -i ").append(in);
        }
        if (out != null) {
            b.append(outInv ? " ! -o " : " -o ").append(out);
        }
        if (proto != 0) {
            String n = Names.protoName(proto);
            b.append(protoInv ? " ! -p " : " -p ").append(n != null ? n : Integer.toString(proto));
        }
        if (frag) {
            b.append(fragInv ? " ! -f" : " -f");
        }
        for (Match m : matches) {
            m.save(b);
        }
        if (counters) {
            b.append(" -c ").append(packets.get()).append(' ').append(bytes.get());
        }
        switch (kind) {
            case NONE -> { }
            case GOTO -> b.append(" -g ").append(target);
            case JUMP -> b.append(" -j ").append(target);
            case REJECT -> b.append(" -j REJECT --reject-with ").append(rejectWith);
            case LOG -> {
                b.append(" -j LOG");
                if (logPrefix != null) {
                    b.append(" --log-prefix \"").append(logPrefix).append('"');
                }
                if (logLevel != 4) {
                    b.append(" --log-level ").append(logLevel);
                }
            }
            case SNAT -> b.append(" -j SNAT --to-source ").append(natTo).append(natFlagWords(true));
            case DNAT -> b.append(" -j DNAT --to-destination ").append(natTo).append(natFlagWords(true));
            case MASQUERADE, REDIRECT -> {
                b.append(" -j ").append(kind.name());
                if (natTo != null) {
                    b.append(" --to-ports ").append(natTo);
                }
                b.append(natFlagWords(true));
            }
            case MARK, CONNMARK, NOTRACK, CT, TCPMSS, TOS, DSCP, TTL -> Targets.save(this, b);
            case SET -> {
                b.append(" -j SET");
                setWords(b, "--");
            }
            case NFQUEUE -> b.append(" -j NFQUEUE --queue-num ").append(queueNum).append(queueBypass ? " --queue-bypass" : "");
            default -> b.append(" -j ").append(kind.name());
        }
        return b.toString();
    }

    String targetName() {
        return switch (kind) {
            case NONE -> "";
            case JUMP, GOTO -> target;
            case NOTRACK -> "CT"; // the NOTRACK target is CT's revision 0: -L names it CT
            default -> kind.name();
        };
    }

    /** libxt_SET's save (prefix "--") and print (prefix ""): add-set, del-set, exist, timeout. */
    private void setWords(StringBuilder b, String prefix) {
        if (addSet != null) {
            b.append(' ').append(prefix).append("add-set ").append(addSet.name).append(' ').append(addSet.flags);
        }
        if (delSet != null) {
            b.append(' ').append(prefix).append("del-set ").append(delSet.name).append(' ').append(delSet.flags);
        }
        if (setExist) {
            b.append(' ').append(prefix).append("exist");
        }
        if (setTimeout >= 0) {
            b.append(' ').append(prefix).append("timeout ").append(setTimeout);
        }
    }

    private static final String[] LEVELS = { "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug" };

    private String natFlagWords(boolean save) {
        String w = "";
        if ((natFlags & org.modnet.api.netfilter.NfNat.RANDOM) != 0) {
            w += save ? " --random" : " random";
        }
        if ((natFlags & org.modnet.api.netfilter.NfNat.RANDOM_FULLY) != 0) {
            w += save ? " --random-fully" : " random-fully";
        }
        return w;
    }

    /** The target's part of an {@code iptables -L} line. */
    void listTarget(StringBuilder b, boolean numeric) {
        switch (kind) {
            case SNAT, DNAT -> b.append(" to:").append(natTo).append(natFlagWords(false));
            case MASQUERADE -> {
                if (natTo != null) {
                    b.append(" masq ports: ").append(natTo);
                }
                b.append(natFlagWords(false));
            }
            case REDIRECT -> {
                if (natTo != null) {
                    b.append(" redir ports ").append(natTo);
                }
                b.append(natFlagWords(false));
            }
            case MARK, CONNMARK, NOTRACK, CT, TCPMSS, TOS, DSCP, TTL -> Targets.list(this, b, numeric);
            case SET -> setWords(b, "");
            case NFQUEUE -> b.append(" NFQUEUE num ").append(queueNum).append(queueBypass ? " bypass" : "");
            default -> { }
        }
        if (kind == Kind.REJECT) {
            b.append(" reject-with ").append(rejectWith);
        } else if (kind == Kind.LOG) {
            b.append(numeric ? " LOG flags 0 level " + logLevel : " LOG level " + LEVELS[logLevel]);
            if (logPrefix != null) {
                b.append(" prefix \"").append(logPrefix).append('"');
            }
        }
    }

    /** The address column of iptables -L: anywhere, a host, or a network with its prefix. */
    static String listAddr(int a, int mask, boolean numeric) {
        if (a == 0 && mask == 0) {
            return numeric ? "0.0.0.0/0" : "anywhere";
        }
        return mask == -1 ? Names.addr(a) : cidr(a, mask);
    }
}
