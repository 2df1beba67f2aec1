package org.modnet.nftables;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/**
 * An nf_tables expression (struct nft_expr_ops' eval): reads and writes registers, or sets the
 * verdict register to BREAK when the rule does not match. Expressions are immutable once compiled
 * (counters excepted) and are shared by every thread.
 */
abstract class Expr {
    abstract void eval(Regs r);

    /** nft_payload: {@code len} (1, 2 or 4) bytes at {@code off} from the network or transport header. */
    static final class Payload extends Expr {
        final boolean transport;
        final int off, len, dreg;

        Payload(boolean transport, int off, int len, int dreg) {
            this.transport = transport;
            this.off = off;
            this.len = len;
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            int base = transport ? r.th : r.nh;
            if (base < 0) {
                r.verdict = Regs.BREAK; // no transport header: nothing of it matches
                return;
            }
            SkBuff s = r.skb;
            r.data[dreg] = switch (len) {
                case 1 -> s.getU8(base + off);
                case 2 -> s.getU16(base + off);
                default -> s.getU32(base + off);
            };
        }
    }

    /** nft_meta for {@code l4proto}. */
    static final class MetaL4proto extends Expr {
        final int dreg;

        MetaL4proto(int dreg) {
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            r.data[dreg] = r.proto;
        }
    }

    /** nft_meta's iif/oif/iifname/oifname with the cmp folded in: the device's name against one. */
    static final class MetaIfname extends Expr {
        final boolean out;
        final String name;
        final boolean neq;

        MetaIfname(boolean out, String name, boolean neq) {
            this.out = out;
            this.name = name;
            this.neq = neq;
        }

        @Override
        void eval(Regs r) {
            org.modnet.api.net.NetDevice d = out ? r.out : r.in;
            boolean eq = d != null && d.name().equals(name);
            if (eq == neq) {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /** nft_ct's {@code state}: the packet's ctinfo as NF_CT_STATE_BIT (invalid 1, established 2, related 4, new 8, untracked 64). */
    static final class CtState extends Expr {
        final int dreg;

        CtState(int dreg) {
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            int info = r.skb.nfctInfo();
            int bit;
            if (info == SkBuff.NFCT_NONE) {
                bit = 1;
            } else if (info == SkBuff.IP_CT_UNTRACKED) {
                bit = 64;
            } else {
                bit = switch (info % SkBuff.IP_CT_IS_REPLY) {
                    case SkBuff.IP_CT_ESTABLISHED -> 2;
                    case SkBuff.IP_CT_RELATED -> 4;
                    default -> 8;
                };
            }
            r.data[dreg] = bit;
        }
    }

    /** nft_ct's {@code status}: the connection's IPS_* bits; a packet with no connection matches nothing of it. */
    static final class CtStatus extends Expr {
        final int dreg;

        CtStatus(int dreg) {
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            if (r.skb.nfct() instanceof org.modnet.api.netfilter.NfConnMark ct) {
                r.data[dreg] = ct.status();
            } else {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /**
     * nft_meta's {@code pkttype}: skb->pkt_type (PACKET_HOST 0 .. OTHERHOST 3); a looped-back packet's is
     * told from its destination as nft_meta_get_eval_pkttype_lo does (multicast, broadcast, else host).
     */
    static final class MetaPkttype extends Expr {
        final int dreg;

        MetaPkttype(int dreg) {
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            org.modnet.api.skb.PktType t = r.skb.pktType();
            int v;
            if (t == org.modnet.api.skb.PktType.LOOPBACK || t == org.modnet.api.skb.PktType.OUTGOING) {
                int daddr = r.nh >= 0 ? r.skb.getU32(r.nh + 16) : 0;
                v = (daddr & 0xf0000000) == 0xe0000000 ? 2 : daddr == -1 ? 1 : 0;
            } else {
                v = t == null ? 0 : t.ordinal();
            }
            r.data[dreg] = v;
        }
    }

    /** nft_bitwise: dreg = (sreg & mask) ^ xor. */
    static final class Bitwise extends Expr {
        final int sreg, dreg, mask, xor;

        Bitwise(int sreg, int dreg, int mask, int xor) {
            this.sreg = sreg;
            this.dreg = dreg;
            this.mask = mask;
            this.xor = xor;
        }

        @Override
        void eval(Regs r) {
            r.data[dreg] = (r.data[sreg] & mask) ^ xor;
        }
    }

    /** nft_cmp: eq or neq (unsigned values). */
    static final class Cmp extends Expr {
        final int sreg, value;
        final boolean neq;

        Cmp(int sreg, int value, boolean neq) {
            this.sreg = sreg;
            this.value = value;
            this.neq = neq;
        }

        @Override
        void eval(Regs r) {
            if ((r.data[sreg] == value) == neq) {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /** nft_range: from..to inclusive, unsigned. */
    static final class Range extends Expr {
        final int sreg, from, to;
        final boolean neq;

        Range(int sreg, int from, int to, boolean neq) {
            this.sreg = sreg;
            this.from = from;
            this.to = to;
            this.neq = neq;
        }

        @Override
        void eval(Regs r) {
            int v = r.data[sreg];
            boolean in = Integer.compareUnsigned(v, from) >= 0 && Integer.compareUnsigned(v, to) <= 0;
            if (in == neq) {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /** nft_lookup: the register's value in a set (its compiled, immutable form). */
    static final class Lookup extends Expr {
        final int sreg;
        final SetData set;
        final boolean inv;

        Lookup(int sreg, SetData set, boolean inv) {
            this.sreg = sreg;
            this.set = set;
            this.inv = inv;
        }

        @Override
        void eval(Regs r) {
            if ((set.find(r.data, sreg) >= 0) == inv) {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /** nft_lookup on a set with timeouts: a live element's key (one whose time has passed no longer matches, at once). */
    static final class DynLookup extends Expr {
        final int sreg;
        final DynSet set;
        final boolean inv;

        DynLookup(int sreg, DynSet set, boolean inv) {
            this.sreg = sreg;
            this.set = set;
            this.inv = inv;
        }

        @Override
        void eval(Regs r) {
            if (set.contains(r.data, sreg, r.clock.getAsLong()) == inv) {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /**
     * nft_dynset: the key in registers 1.. into the set, expiring {@code timeoutNs} from now (0: never);
     * a full set refuses it (counted) and the rule does not match, as nft_dynset_eval breaks.
     */
    static final class Dynset extends Expr {
        final DynSet set;
        final long timeoutNs, timeoutMs;
        final boolean update;

        Dynset(DynSet set, long timeoutNs, long timeoutMs, boolean update) {
            this.set = set;
            this.timeoutNs = timeoutNs;
            this.timeoutMs = timeoutMs;
            this.update = update;
        }

        @Override
        void eval(Regs r) {
            long now = r.clock.getAsLong();
            long exp = timeoutNs == 0 ? 0 : now + timeoutNs == 0 ? 1 : now + timeoutNs;
            if (!set.insert(r.data, 1, now, exp, timeoutMs, update)) {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /** nft_lookup on a data map: the element's data into {@code dreg..}; no element, no match. */
    static final class MapLookup extends Expr {
        final int sreg, dreg;
        final SetData map;

        MapLookup(int sreg, int dreg, SetData map) {
            this.sreg = sreg;
            this.dreg = dreg;
            this.map = map;
        }

        @Override
        void eval(Regs r) {
            int i = map.find(r.data, sreg);
            if (i < 0) {
                r.verdict = Regs.BREAK;
                return;
            }
            System.arraycopy(map.data, i * map.dataWidth, r.data, dreg, map.dataWidth);
        }
    }

    /** nft_lookup on a verdict map: the element's verdict; no element, the rule goes on to the next. */
    static final class Vmap extends Expr {
        final int sreg;
        final SetData map;

        Vmap(int sreg, SetData map) {
            this.sreg = sreg;
            this.map = map;
        }

        @Override
        void eval(Regs r) {
            int i = map.find(r.data, sreg);
            if (i < 0) {
                r.verdict = Regs.BREAK;
                return;
            }
            r.verdict = map.verdicts[i];
            r.chain = map.chains[i];
        }
    }

    /** nft_meta's {@code mark} (skb->mark) into a register. */
    static final class MetaMark extends Expr {
        final int dreg;

        MetaMark(int dreg) {
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            r.data[dreg] = r.skb.mark();
        }
    }

    /** nft_ct's {@code mark}: an untracked packet has none, and nothing of it matches. */
    static final class CtMark extends Expr {
        final int dreg;

        CtMark(int dreg) {
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            if (r.skb.nfct() instanceof org.modnet.api.netfilter.NfConnMark ct) {
                r.data[dreg] = ct.mark();
            } else {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /** The QUEUE verdict's way to the namespace's queues ({@code nf_queue}). */
    interface Queuer {
        /** STOLEN: queued; DROP: refused and counted; ACCEPT: bypassed. */
        org.modnet.api.netfilter.Verdict queue(SkBuff skb, org.modnet.api.netfilter.NfHook hook, org.modnet.api.net.NetDevice in,
                org.modnet.api.net.NetDevice out,
                int num, boolean bypass, org.modnet.api.netfilter.NfHookFunction from);
    }

    /** nft_queue_eval: NF_QUEUE to queue {@code num}; without a consumer (or a hook to resume at) a drop, unless bypass. */
    static final class Queue extends Expr {
        final int num;
        final boolean bypass;

        Queue(int num, boolean bypass) {
            this.num = num;
            this.bypass = bypass;
        }

        @Override
        void eval(Regs r) {
            Queuer q = r.queuer;
            org.modnet.api.netfilter.Verdict v = q == null || r.from == null
                    ? (bypass ? org.modnet.api.netfilter.Verdict.ACCEPT : org.modnet.api.netfilter.Verdict.DROP)
                    : q.queue(r.skb, r.hook, r.in, r.out, num, bypass, r.from);
            r.verdict = switch (v) {
                case STOLEN -> Regs.STOLEN;
                case ACCEPT -> Regs.ACCEPT;
                default -> Regs.DROP;
            };
        }
    }

    /** nft_ct_get_eval for {@code zone}: the flow's zone, a template's before conntrack, else 0. */
    static final class CtZone extends Expr {
        final int dreg;

        CtZone(int dreg) {
            this.dreg = dreg;
        }

        @Override
        void eval(Regs r) {
            Object ct = r.skb.nfct();
            r.data[dreg] = ct instanceof org.modnet.api.netfilter.NfConnMark c ? c.zone()
                    : ct instanceof org.modnet.api.netfilter.NfCtTemplate t ? t.zone() : 0;
        }
    }

    /**
     * nft_ct_set_zone_eval: a packet conntrack has not seen yet carries the zone's template (made when
     * the rule is compiled, so the packet path allocates nothing); a tracked one keeps its flow's zone.
     */
    static final class SetZone extends Expr {
        final org.modnet.api.netfilter.NfCtTemplate template;

        SetZone(org.modnet.api.netfilter.NfCtTemplate template) {
            this.template = template;
        }

        @Override
        void eval(Regs r) {
            Object ct = r.skb.nfct();
            if (ct == null || ct instanceof org.modnet.api.netfilter.NfCtTemplate) {
                r.skb.nfct(template, org.modnet.api.skb.SkBuff.IP_CT_NEW);
            }
        }
    }

    /** nft_meta_set_eval / nft_ct_set_eval for {@code mark}: the register into skb->mark or ct->mark. */
    static final class SetMark extends Expr {
        final boolean ct;
        final int sreg;

        SetMark(boolean ct, int sreg) {
            this.ct = ct;
            this.sreg = sreg;
        }

        @Override
        void eval(Regs r) {
            int v = r.data[sreg];
            if (!ct) {
                r.skb.mark(v);
            } else if (r.skb.nfct() instanceof org.modnet.api.netfilter.NfConnMark c && c.mark() != v) {
                c.mark(v);
            }
        }
    }

    /** nft_immediate with data: a value into a register. */
    static final class Data extends Expr {
        final int dreg, value;

        Data(int dreg, int value) {
            this.dreg = dreg;
            this.value = value;
        }

        @Override
        void eval(Regs r) {
            r.data[dreg] = value;
        }
    }

    /**
     * nft_limit for packets: a token bucket of {@code burst} packets refilled one per {@code cost}
     * nanoseconds, kept as the time the bucket is full again (a virtual scheduling time, one CAS per
     * packet: no lock, no allocation). {@code over} inverts the match, as {@code limit rate over}.
     * Made with its rule, so recompiling the ruleset keeps its state.
     */
    static final class Limit extends Expr {
        final long cost;
        final int burst;
        final boolean over;
        /** How far ahead of now the bucket may be full again and still pass a packet: burst - 1 packets' worth, saturated. */
        private final long slack;
        private final AtomicLong tat = new AtomicLong(Long.MIN_VALUE);

        Limit(long cost, int burst, boolean over) {
            this.cost = cost;
            this.burst = burst;
            this.over = over;
            this.slack = burst - 1 > 0 && cost > Long.MAX_VALUE / 4 / (burst - 1) ? Long.MAX_VALUE / 4 : cost * (burst - 1);
        }

        @Override
        void eval(Regs r) {
            long now = r.clock.getAsLong();
            while (true) {
                long t = tat.get();
                long from = t == Long.MIN_VALUE || t - now < 0 ? now : t;
                if (from - now > slack) {
                    if (!over) {
                        r.verdict = Regs.BREAK; // over the rate: tokens stay as they were
                    }
                    return;
                }
                if (tat.compareAndSet(t, from + cost)) {
                    if (over) {
                        r.verdict = Regs.BREAK;
                    }
                    return;
                }
            }
        }
    }

    /**
     * nft_limit for bytes: a bucket of {@code unit * (rate + burst) / rate} nanoseconds' worth of tokens,
     * a packet costing {@code unit * len / rate}; kept, as {@link Limit}, as the time the bucket is full
     * again (one CAS per packet, no lock, no allocation). A packet bigger than the bucket never passes.
     */
    static final class ByteLimit extends Expr {
        final long nsecs, rate;
        final boolean over;
        private final long max;
        private final AtomicLong tat = new AtomicLong(Long.MIN_VALUE);

        ByteLimit(long nsecs, long rate, long burst, boolean over) {
            this.nsecs = nsecs;
            this.rate = rate;
            this.over = over;
            this.max = Long.divideUnsigned(nsecs * (rate + burst), rate); // fits: the parser refused what does not
        }

        @Override
        void eval(Regs r) {
            long now = r.clock.getAsLong();
            long len = r.len;
            long cost = len > Long.MAX_VALUE / nsecs ? nsecs / rate * len : nsecs * len / rate;
            while (true) {
                long t = tat.get();
                long from = t == Long.MIN_VALUE || t - now < 0 ? now : t;
                if (from + cost - now > max) {
                    if (!over) {
                        r.verdict = Regs.BREAK; // over the rate: the tokens stay as they were
                    }
                    return;
                }
                if (tat.compareAndSet(t, from + cost)) {
                    if (over) {
                        r.verdict = Regs.BREAK;
                    }
                    return;
                }
            }
        }
    }

    /** nft_counter: packets and bytes, shared by every compiled form of the rule. */
    static final class Counter extends Expr {
        final AtomicLong packets = new AtomicLong(), bytes = new AtomicLong();

        @Override
        void eval(Regs r) {
            packets.incrementAndGet();
            bytes.addAndGet(r.len);
        }
    }

    /**
     * nft_quota: the packet's bytes are added to what the quota has consumed; at or past its bytes the
     * rule stops matching ({@code over}: starts matching), as nft_overquota decides. One atomic add, no lock.
     */
    static final class Quota extends Expr {
        final long bytes;
        final boolean over;
        final AtomicLong consumed = new AtomicLong();

        Quota(long bytes, boolean over) {
            this.bytes = bytes;
            this.over = over;
        }

        @Override
        void eval(Regs r) {
            if ((consumed.addAndGet(r.len) >= bytes) ^ over) {
                r.verdict = Regs.BREAK;
            }
        }
    }

    /** nft_immediate with a verdict: accept, drop, return, or jump/goto to a chain (its index). */
    static final class Immediate extends Expr {
        final int code, chain;

        Immediate(int code, int chain) {
            this.code = code;
            this.chain = chain;
        }

        @Override
        void eval(Regs r) {
            r.verdict = code;
            r.chain = chain;
        }
    }

    /** nft_log: a line in nf_log_ipv4's format to the instance's log. */
    static final class Log extends Expr {
        final String prefix;
        final Consumer<String> sink;

        Log(String prefix, Consumer<String> sink) {
            this.prefix = prefix;
            this.sink = sink;
        }

        @Override
        void eval(Regs r) {
            sink.accept(LogLine.format(prefix, r));
        }
    }

    /** nft_reject_ipv4: an ICMP destination unreachable (the code given) or a TCP reset, then drop. */
    static final class Reject extends Expr {
        final int code;
        final boolean tcpReset;
        final Rejecter rejecter;

        Reject(int code, boolean tcpReset, Rejecter rejecter) {
            this.code = code;
            this.tcpReset = tcpReset;
            this.rejecter = rejecter;
        }

        @Override
        void eval(Regs r) {
            if (rejecter != null) {
                if (tcpReset) {
                    if (r.proto == 6 && r.th >= 0) {
                        rejecter.reset(r.skb, r.nh, r.th);
                    }
                } else {
                    rejecter.reject(r.skb, code);
                }
            }
            r.verdict = Regs.DROP;
        }
    }

    /** nft_nat, nft_masq and nft_redir through the conntrack bundle's NAT core; no core (a filter hook) leaves it alone. */
    static final class Nat extends Expr {
        static final int SNAT = 0, DNAT = 1, MASQ = 2, REDIR = 3;
        final int kind, addrLo, addrHi, portLo, portHi;
        /** The register holding the address (a map's data), or -1 for {@code addrLo..addrHi}; the one holding the port, or -1. */
        final int sreg, sregPort;

        Nat(int kind, int addrLo, int addrHi, int portLo, int portHi, int sreg) {
            this(kind, addrLo, addrHi, portLo, portHi, sreg, -1);
        }

        Nat(int kind, int addrLo, int addrHi, int portLo, int portHi, int sreg, int sregPort) {
            this.sregPort = sregPort;
            this.kind = kind;
            this.addrLo = addrLo;
            this.addrHi = addrHi;
            this.portLo = portLo;
            this.portHi = portHi;
            this.sreg = sreg;
        }

        @Override
        void eval(Regs r) {
            if (r.nat == null) {
                r.verdict = Regs.ACCEPT;
                return;
            }
            Verdict v = switch (kind) {
                case MASQ -> r.nat.masquerade(r.skb, r.out, portLo, portHi, 0);
                case REDIR -> r.nat.redirect(r.skb, r.hook, r.in, portLo, portHi, 0);
                default -> sreg < 0 ? r.nat.setup(r.skb, r.hook, addrLo, addrHi, portLo, portHi, 0)
                        : sregPort < 0 ? r.nat.setup(r.skb, r.hook, r.data[sreg], r.data[sreg], portLo, portHi, 0)
                        : r.nat.setup(r.skb, r.hook, r.data[sreg], r.data[sreg], r.data[sregPort], r.data[sregPort], 0);
            };
            r.verdict = v == Verdict.ACCEPT ? Regs.ACCEPT : Regs.DROP;
        }
    }

    /** REJECT's answers, as IPv4 gives them. */
    interface Rejecter {
        void reject(SkBuff skb, int code);

        void reset(SkBuff skb, int nh, int th);
    }
}
