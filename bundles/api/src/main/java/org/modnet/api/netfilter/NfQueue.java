package org.modnet.api.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * The QUEUE verdict and its user-space side ({@code nf_queue} and {@code nfnetlink_queue}), offered by the
 * netfilter bundle: a rule ({@code -j NFQUEUE --queue-num N}, nft's {@code queue num N}) hands its packet
 * to queue N of its namespace, where it waits, in a bounded queue, until the consumer bound to N gives
 * a verdict: ACCEPT sends it on from the hook function after the one that queued it
 * ({@code nf_reinject}, through {@link org.modnet.api.inet.Ipv4#nfReinject}), DROP frees it. With no
 * consumer bound the packet is dropped and counted, or with {@code bypass} goes on as if accepted
 * ({@code NFQA_CFG_F_FAIL_OPEN} is not kept: a full queue drops and counts, as Linux's default).
 * @since 1.5
 */
public interface NfQueue {
    /** A packet waiting in a queue for its verdict. */
    interface Packet {
        /** The packet id, counting from 1 per queue ({@code NFQA_PACKET_HDR}'s {@code packet_id}). */
        int id();

        NfHook hook();

        NetDevice in();

        NetDevice out();

        /** The packet, its data at the IPv4 header: read it, do not keep it after the verdict. */
        SkBuff skb();
    }

    /** A consumer bound to one queue number ({@code NFQNL_CFG_CMD_BIND}): it takes packets and gives verdicts. */
    interface Listener extends AutoCloseable {
        /** The next packet, waiting at most {@code millis}; null when none came. */
        Packet take(long millis) throws InterruptedException;

        /**
         * {@code NFQNL_MSG_VERDICT}: ACCEPT (on through the hook's later functions), DROP, REPEAT (the
         * queueing function again, then the later ones) or STOP (on from the hook, skipping its later
         * functions); STOLEN drops. A packet gets one verdict.
         */
        void verdict(Packet p, Verdict v);

        /** Unbinds: the packets still waiting are dropped and counted ({@code user_dropped}). */
        @Override
        void close();
    }

    /**
     * {@code nf_queue} from a hook function {@code from} (the one reinjection resumes after): STOLEN when
     * the packet waits in the queue (the queue owns it), DROP when it was refused (no consumer, a full
     * queue: counted; the caller frees it), ACCEPT when {@code bypass} let it through without a consumer.
     * No lock held for long and no allocation: each queue's slots are made when it is bound.
     */
    Verdict enqueue(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, int num, boolean bypass,
            NfHookFunction from);

    /** Binds a consumer to queue {@code num} of {@code ns}: EBUSY when another holds it. */
    Listener bind(NetNamespace ns, int num) throws NetException;
}
