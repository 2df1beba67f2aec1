package org.modnet.api.sched;

import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/**
 * The classifier hook of a {@code clsact} or {@code ingress} qdisc ({@code struct mini_Qdisc}): run by the
 * core on each frame a device receives ({@code sch_handle_ingress}: after XDP and the taps, before the
 * protocol handlers; the skb's data at the network header) and sends ({@code sch_handle_egress}: before
 * the root qdisc; data at the Ethernet header). With none attached the core pays one null check.
 * <p>
 * It returns {@link #TC_ACT_OK} when the frame goes on its way; anything else means the hook consumed
 * it — freed it ({@link #TC_ACT_SHOT}, counted by the hook) or passed it elsewhere ({@link #TC_ACT_STOLEN},
 * {@link #TC_ACT_REDIRECT}). It runs on the softirq or sender's thread, takes no lock and allocates nothing.
 */
public interface TcHook {
    int TC_ACT_UNSPEC = -1;
    int TC_ACT_OK = 0;
    int TC_ACT_RECLASSIFY = 1;
    int TC_ACT_SHOT = 2;
    int TC_ACT_PIPE = 3;
    int TC_ACT_STOLEN = 4;
    int TC_ACT_QUEUED = 5;
    int TC_ACT_REPEAT = 6;
    int TC_ACT_REDIRECT = 7;
    int TC_ACT_TRAP = 8;

    /** Classifies {@code skb} on {@code dev}'s ingress ({@code ingress} true) or egress and carries out the verdict. */
    int run(SkBuff skb, NetDevice dev, boolean ingress);
}
