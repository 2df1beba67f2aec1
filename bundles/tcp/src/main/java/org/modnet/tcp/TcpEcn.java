package org.modnet.tcp;

import org.modnet.api.inet.RouteEntry;
import org.modnet.api.skb.SkBuff;

/**
 * Explicit Congestion Notification for TCP (RFC 3168) as Linux's {@code tcp_input.c} and {@code
 * tcp_output.c} do it: the negotiation on the handshake ({@code net.ipv4.tcp_ecn}: 0 off, 1 ask on
 * outgoing SYNs, 2 (the default) accept when the peer asks; {@code tcp_ecn_fallback} drops the ask on a
 * retransmitted SYN), ECT(0) on new data segments only, a CE mark echoed as ECE on every segment until
 * the sender's CWR, and the sender's reduction on ECE ({@code tcp_enter_cwr}, in {@link TcpRecovery}).
 * The state is {@link TcpSock#ecnFlags}, with Linux's {@code TCP_ECN_*} bits.
 */
final class TcpEcn {
    /** The connection negotiated ECN. */
    static final int TCP_ECN_OK = 1;
    /** A reduction happened: the next new data segment carries CWR. */
    static final int TCP_ECN_QUEUE_CWR = 2;
    /** A CE mark was received: every segment carries ECE until a CWR arrives. */
    static final int TCP_ECN_DEMAND_CWR = 4;
    /** An ECT or CE segment was received ({@code ss -i}'s {@code ecnseen}). */
    static final int TCP_ECN_SEEN = 8;

    /** The ECN field of the IP TOS byte ({@code INET_ECN_*}). */
    static final int INET_ECN_NOT_ECT = 0;
    static final int INET_ECN_ECT_1 = 1;
    static final int INET_ECN_ECT_0 = 2;
    static final int INET_ECN_CE = 3;
    static final int INET_ECN_MASK = 3;

    private TcpEcn() {
    }

    /**
     * {@code tcp_ecn_send_syn}: the flags our SYN adds. The first SYN decides whether this connection
     * asks (tcp_ecn 1); a retransmitted one stops asking while {@code tcp_ecn_fallback} is on (RFC 3168
     * 6.1.1.1: a middlebox may drop ECN SYNs), though a SYN-ACK with ECE to the first still counts.
     */
    static int synFlags(TcpSock sk, boolean again) {
        if (!again) {
            boolean useEcn = sk.net.ecn.get() == 1 || routeEcn(sk.net, sk.raddr(), sk.laddr(), sk.mark());
            sk.ecnFlags = useEcn ? TCP_ECN_OK : 0;
        }
        if ((sk.ecnFlags & TCP_ECN_OK) == 0 || again && sk.net.ecnFallback.get() != 0) {
            return 0;
        }
        return TcpHeader.ECE | TcpHeader.CWR;
    }

    /** {@code tcp_ecn_make_synack} / {@code tcp_ecn_send_synack}: ECE alone when we agreed, never CWR. */
    static int synackFlags(TcpSock sk) {
        return (sk.ecnFlags & TCP_ECN_OK) != 0 ? TcpHeader.ECE : 0;
    }

    /** {@code tcp_ecn_rcv_synack}: a SYN-ACK without ECE, or with CWR too, is a peer that did not agree. */
    static void rcvSynack(TcpSock sk, int flags) {
        if ((flags & TcpHeader.ECE) == 0 || (flags & TcpHeader.CWR) != 0) {
            sk.ecnFlags &= ~TCP_ECN_OK;
        }
    }

    /** {@code tcp_ecn_rcv_syn}: a simultaneous open agrees only when the peer's SYN asked as ours did. */
    static void rcvSyn(TcpSock sk, int flags) {
        if ((flags & (TcpHeader.ECE | TcpHeader.CWR)) != (TcpHeader.ECE | TcpHeader.CWR)) {
            sk.ecnFlags &= ~TCP_ECN_OK;
        }
    }

    /**
     * {@code tcp_ecn_create_request}: a listener agrees to a SYN with ECE and CWR when tcp_ecn is not 0
     * (1 and 2 both accept), unless the SYN itself was ECT: RFC 3168 6.1.1 forbids it, so Linux takes it
     * for a middlebox that rewrites the TOS byte and refuses (a reserved header bit, AccECN's, lets it by).
     */
    static boolean createRequest(TcpNet net, SkBuff syn) {
        int th = syn.data();
        int flags = syn.getU8(th + TcpHeader.FLAGS);
        if ((flags & (TcpHeader.ECE | TcpHeader.CWR)) != (TcpHeader.ECE | TcpHeader.CWR)) {
            return false;
        }
        boolean ect = (syn.getU8(syn.networkHeader() + 1) & INET_ECN_MASK) != INET_ECN_NOT_ECT;
        boolean res1 = (syn.getU8(th + TcpHeader.DOFF) & 0x0f) != 0;
        if (ect && !res1) {
            return false;
        }
        // the route back to the SYN's sender may allow ECN whatever tcp_ecn says ({@code ecn_ok_dst})
        return net.ecn.get() != 0 || routeEcn(net, syn.getU32(syn.networkHeader() + 12), syn.getU32(syn.networkHeader() + 16), syn.mark());
    }

    /**
     * {@code dst_feature(dst, RTAX_FEATURE_ECN)}: the route to {@code daddr} was added with {@code features
     * ecn} ({@code ip route ... features ecn}), which asks for and accepts ECN with that destination even
     * when {@code tcp_ecn} would not. Looked up only when tcp_ecn alone does not decide, at a SYN.
     */
    static boolean routeEcn(TcpNet net, int daddr, int saddr, int mark) {
        return (net.ipv4.routeFeatures(net.ns, daddr, saddr, mark) & RouteEntry.RTAX_FEATURE_ECN) != 0;
    }

    /**
     * {@code tcp_ecn_send}'s flags for a segment built at {@code seq} with {@code len} bytes: CWR on the
     * first new data segment after a reduction, ECE on every segment while a CE mark awaits the sender's
     * CWR. SYNs have their own ({@link #synFlags}).
     */
    static int sendFlags(TcpSock sk, int seq, int len, int flags) {
        int f = sk.ecnFlags;
        if ((f & TCP_ECN_OK) == 0 || (flags & TcpHeader.SYN) != 0) {
            return flags;
        }
        if ((f & TCP_ECN_QUEUE_CWR) != 0 && newData(sk, seq, len)) {
            sk.ecnFlags = f & ~TCP_ECN_QUEUE_CWR;
            flags |= TcpHeader.CWR;
        }
        if ((f & TCP_ECN_DEMAND_CWR) != 0) {
            flags |= TcpHeader.ECE;
        }
        return flags;
    }

    /**
     * {@code tcp_ecn_send}'s {@code INET_ECN_xmit}/{@code INET_ECN_dontxmit}: the TOS byte for the
     * segment, ECT(0) on new data of an ECN connection, Not-ECT on ACKs, SYNs, FINs without data and
     * retransmissions (RFC 3168 6.1.5). The socket's own ECN bits never go out: Linux's IP_TOS keeps
     * them for TCP.
     */
    static int tos(TcpSock sk, int seq, int len, int flags) {
        int tos = sk.tos() & ~INET_ECN_MASK;
        if ((sk.ecnFlags & TCP_ECN_OK) != 0 && (flags & TcpHeader.SYN) == 0 && newData(sk, seq, len)) {
            tos |= INET_ECN_ECT_0;
        }
        return tos;
    }

    /** Data never sent before: {@code snd_max} is the highest sequence sent (snd_nxt may have gone back). */
    private static boolean newData(TcpSock sk, int seq, int len) {
        return len > 0 && !TcpSeq.before(seq, sk.sndMax);
    }

    /**
     * {@code tcp_ecn_accept_cwr}: the sender reduced, so ECE stops; a data segment with CWR is
     * acknowledged at once, the sender's window may be one segment.
     */
    static void acceptCwr(TcpSock sk, int flags, int len) {
        if ((flags & TcpHeader.CWR) != 0) {
            sk.ecnFlags &= ~TCP_ECN_DEMAND_CWR;
            if (len > 0) {
                sk.quickAcks = Math.max(sk.quickAcks, 1);
            }
        }
    }

    /**
     * {@code tcp_ecn_check_ce} for a data segment: CE starts ECE on our segments (and quick ACKs, the
     * sender's window may be small); ECT is noted as seen; Not-ECT after ECT was seen is likely a
     * retransmission, which Linux acknowledges quickly too.
     */
    static void checkCe(TcpSock sk, SkBuff skb) {
        int f = sk.ecnFlags;
        if ((f & TCP_ECN_OK) == 0) {
            return;
        }
        switch (skb.getU8(skb.networkHeader() + 1) & INET_ECN_MASK) {
            case INET_ECN_NOT_ECT -> {
                if ((f & TCP_ECN_SEEN) != 0) {
                    sk.quickAcks = Math.max(sk.quickAcks, 2);
                }
            }
            case INET_ECN_CE -> {
                if ((f & TCP_ECN_DEMAND_CWR) == 0) {
                    sk.quickAcks = Math.max(sk.quickAcks, 2);
                    f |= TCP_ECN_DEMAND_CWR;
                }
                sk.ecnFlags = f | TCP_ECN_SEEN;
            }
            default -> sk.ecnFlags = f | TCP_ECN_SEEN;
        }
    }

    /** {@code tcp_ecn_rcv_ecn_echo}: ECE on an ACK (not a SYN's) of an ECN connection is the peer's echo of a CE mark. */
    static boolean ecnEcho(TcpSock sk, int flags) {
        return (flags & TcpHeader.ECE) != 0 && (flags & TcpHeader.SYN) == 0 && (sk.ecnFlags & TCP_ECN_OK) != 0;
    }

    /** {@code tcp_ecn_queue_cwr}: a reduction of the window is to be told with CWR. */
    static void queueCwr(TcpSock sk) {
        if ((sk.ecnFlags & TCP_ECN_OK) != 0) {
            sk.ecnFlags |= TCP_ECN_QUEUE_CWR;
        }
    }
}
