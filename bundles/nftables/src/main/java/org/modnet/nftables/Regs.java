package org.modnet.nftables;

import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.skb.SkBuff;

/**
 * struct nft_regs and nft_pktinfo together: the verdict register, the data registers and the packet
 * being judged. One per thread, reused for every packet, so evaluation allocates nothing.
 */
final class Regs {
    /** Verdict codes (NF_DROP, NF_ACCEPT and nf_tables' own negative ones). */
    static final int DROP = 0, ACCEPT = 1, CONTINUE = -1, BREAK = -2, JUMP = -3, GOTO = -4, RETURN = -5, STOLEN = -6;
    /** NFT_JUMP_STACK_SIZE. */
    static final int STACK = 16;

    int verdict;
    int chain;
    final int[] data = new int[16];
    final int[] stackChain = new int[STACK];
    final int[] stackRule = new int[STACK];

    SkBuff skb;
    int nh;
    /** The transport header, or -1 for a fragment or a truncated one. */
    int th;
    int proto;
    int len;
    NetDevice in, out;
    NfHook hook;
    NfNat nat;
    /** The hook function running the chain (where a queued packet resumes), and the way to the queues; null: none. */
    org.modnet.api.netfilter.NfHookFunction from;
    Expr.Queuer queuer;
    /** The instance's clock (nanoseconds), for limit. */
    java.util.function.LongSupplier clock;

    /** In use by a packet on this thread; a packet sent from inside a rule (reject's answer) takes the next one. */
    private boolean busy;
    private Regs nested;

    private static final ThreadLocal<Regs> PER_THREAD = ThreadLocal.withInitial(Regs::new);

    /**
     * This thread's free registers: a hook re-entered from inside evaluation (reject sends its ICMP
     * error through IPv4's output and LOCAL_OUT) gets its own set, made once per depth and then reused.
     */
    static Regs acquire() {
        Regs r = PER_THREAD.get();
        while (r.busy) {
            if (r.nested == null) {
                r.nested = new Regs();
            }
            r = r.nested;
        }
        r.busy = true;
        return r;
    }

    /**
     * The packet and its hook's arguments. A reference is stored only when it differs from what the
     * last packet on this thread left (a flood's devices, hook and clock are the same every time): a
     * store of a reference into this long-lived object costs a GC barrier, a compare does not.
     */
    void set(SkBuff skb, NfHook hook, NetDevice in, NetDevice out, NfNat nat, java.util.function.LongSupplier clock) {
        if (this.clock != clock) {
            this.clock = clock;
        }
        this.skb = skb;
        if (this.hook != hook) {
            this.hook = hook;
        }
        if (this.in != in) {
            this.in = in;
        }
        if (this.out != out) {
            this.out = out;
        }
        if (this.nat != nat) {
            this.nat = nat;
        }
        nh = skb.networkHeader();
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        proto = skb.getU8(nh + 9);
        len = skb.getU16(nh + 2);
        int fragOff = skb.getU16(nh + 6) & 0x1fff;
        int need = proto == 6 ? 20 : proto == 1 || proto == 17 ? 8 : 4;
        th = fragOff == 0 && nh + ihl + need <= skb.tail() ? nh + ihl : -1;
    }

    /**
     * The registers for a frame at a device's ingress: the data is at the network header, not yet
     * checked by IPv4, so a frame that is not a whole IPv4 header has none ({@code nh} -1).
     */
    void setIngress(SkBuff skb, NetDevice dev, java.util.function.LongSupplier clock) {
        this.clock = clock;
        this.skb = skb;
        this.hook = null;
        this.in = dev;
        this.out = null;
        this.nat = null;
        from(null); // no hook function at a device's ingress: queue has no place to resume
        int at = skb.data();
        int avail = skb.tail() - at;
        if ((skb.protocol() & 0xffff) != 0x0800 || avail < 20 || (skb.getU8(at) >> 4) != 4 || (skb.getU8(at) & 0xf) < 5) {
            nh = -1;
            th = -1;
            proto = 0;
            len = skb.len();
            return;
        }
        nh = at;
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        proto = skb.getU8(nh + 9);
        len = skb.getU16(nh + 2);
        int fragOff = skb.getU16(nh + 6) & 0x1fff;
        int need = proto == 6 ? 20 : proto == 1 || proto == 17 ? 8 : 4;
        th = fragOff == 0 && nh + ihl + need <= skb.tail() ? nh + ihl : -1;
    }

    /** Drops the references to the packet once judged and frees the registers. */
    /** The hook function running the chain, stored only when it changed (see {@link #set}). */
    void from(org.modnet.api.netfilter.NfHookFunction f) {
        if (from != f) {
            from = f;
        }
    }

    void queuer(Expr.Queuer q) {
        if (queuer != q) {
            queuer = q;
        }
    }

    /**
     * Done with the packet. The devices, hook, hook function and queuer stay for the next packet's
     * compare (a device outlives its unregistration here until this thread's next packet); the packet
     * and the NAT core go.
     */
    void release() {
        busy = false;
        skb = null;
        nat = null;
    }
}
