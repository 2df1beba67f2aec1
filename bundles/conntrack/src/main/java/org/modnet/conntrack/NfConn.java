package org.modnet.conntrack;

/**
 * One tracked connection ({@code struct nf_conn}): its two tuples ({@code tuplehash[IP_CT_DIR_ORIGINAL]}
 * and {@code [IP_CT_DIR_REPLY]}), each a node of its hash chain, its status bits, the protocol's state
 * and its absolute timeout. Made once per new flow; a packet of a known flow only updates fields.
 */
final class NfConn implements org.modnet.api.netfilter.NfConnMark {
    static final int IPS_EXPECTED = 1, IPS_SEEN_REPLY = 1 << 1, IPS_ASSURED = 1 << 2, IPS_CONFIRMED = 1 << 3,
            IPS_SRC_NAT = 1 << 4, IPS_DST_NAT = 1 << 5, IPS_SRC_NAT_DONE = 1 << 7, IPS_DST_NAT_DONE = 1 << 8,
            IPS_DYING = 1 << 9;

    /** {@code struct nf_conntrack_tuple_hash}: one direction's tuple and its chain link. */
    static final class TupleHash {
        final NfConn ct;
        final boolean reply;
        int src, dst, sport, dport; // for ICMP: sport is the id, dport is type << 8 | code
        final int proto;
        volatile TupleHash next;

        TupleHash(NfConn ct, boolean reply, int proto) {
            this.ct = ct;
            this.reply = reply;
            this.proto = proto;
        }

        boolean equals(int s, int d, int sp, int dp, int p, int z) {
            return src == s && dst == d && sport == sp && dport == dp && proto == p && ct.zone == z;
        }

        void set(int s, int d, int sp, int dp) {
            src = s;
            dst = d;
            sport = sp;
            dport = dp;
        }
    }

    final TupleHash orig;
    final TupleHash reply;
    final int proto;
    volatile int status;
    /** The clock's millisecond when it expires ({@code ct->timeout}, in jiffies). */
    volatile long timeout;
    /** TCP's {@code TCP_CONNTRACK_*} state, 0 for the others. */
    volatile int state;
    /** TCP: the direction of the last packet and its index ({@code last_dir}, {@code last_index}). */
    int lastDir, lastIndex;
    volatile int mark;
    /** When it was made (clock milliseconds): UDP calls a replied flow a stream after 2 s. */
    long start;
    /** TCP's window tracking ({@code ct->proto.tcp.seen}), null for the other protocols. */
    final TcpConntrack.Window window;
    /** The conntrack zone ({@code nf_ct_zone}), from the template the packet that made it carried; part of both tuples' keys. */
    int zone;
    /** MASQUERADE: the device whose address the flow took (0: none), and that address. */
    int masqIfindex, masqAddr;

    NfConn(int proto) {
        this.proto = proto;
        this.window = proto == 6 ? new TcpConntrack.Window() : null;
        orig = new TupleHash(this, false, proto);
        reply = new TupleHash(this, true, proto);
    }

    @Override
    public int mark() {
        return mark;
    }

    @Override
    public void mark(int m) {
        mark = m;
    }

    @Override
    public int zone() {
        return zone;
    }

    @Override
    public int status() {
        return status;
    }

    boolean has(int bit) {
        return (status & bit) != 0;
    }

    /** {@code set_bit}: atomic, without a lock (the packet path sets SEEN_REPLY and ASSURED). */
    void set(int bit) {
        STATUS.getAndBitwiseOr(this, bit);
    }

    private static final java.lang.invoke.VarHandle STATUS;

    static {
        try {
            STATUS = java.lang.invoke.MethodHandles.lookup().findVarHandle(NfConn.class, "status", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
