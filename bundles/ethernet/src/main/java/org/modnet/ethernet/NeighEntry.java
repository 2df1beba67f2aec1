package org.modnet.ethernet;

import java.util.ArrayDeque;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.Rtnetlink;
import org.modnet.api.net.Timer;
import org.modnet.api.skb.SkBuff;

/**
 * One neighbour ({@code struct neighbour}) and its NUD state machine, as {@code neigh_timer_handler},
 * {@code __neigh_event_send} and {@code neigh_update} drive it: INCOMPLETE while broadcast requests go
 * out (packets wait in a bounded queue), REACHABLE when confirmed, STALE when the confirmation is old,
 * DELAY and PROBE to reconfirm on use, FAILED when nobody answers. As in Linux only INCOMPLETE,
 * REACHABLE, DELAY and PROBE ({@code NUD_IN_TIMER}) keep a timer; a STALE or FAILED entry waits for the
 * table's garbage collection ({@link NeighNet#periodicWork}, {@link NeighNet#forcedGc}). All state changes
 * hold the entry's lock; packets and requests are sent outside it.
 */
final class NeighEntry {
    final NeighNet net;
    final NetDevice dev;
    final int address;
    /** The device's {@code neigh_parms}: its own values where written, the default's elsewhere. */
    final NeighParams parms;
    private final Timer timer;

    /** Written under the entry's lock; read without it by {@link #output}'s fast path. */
    private volatile NudState state;
    private volatile MacAddress lladdr;
    /** Written without the lock by the fast path too: a late or lost store only delays garbage collection. */
    private volatile long used;
    private long confirmed;
    private long updated;
    private int probes;
    private final ArrayDeque<SkBuff> queue = new ArrayDeque<>();
    private volatile boolean dead;
    /** When the timer is due (the clock's milliseconds), or -1 when it is not armed: what a hand-over carries. */
    private long due = -1;

    NeighEntry(NeighNet net, NetDevice dev, int address, NudState state, MacAddress lladdr) {
        this.net = net;
        this.dev = dev;
        this.address = address;
        this.parms = net.parms(dev);
        this.state = state;
        this.lladdr = lladdr;
        long now = net.now();
        this.used = now;
        this.confirmed = now;
        this.updated = now;
        this.timer = net.timer(address, new TimerHandler());
    }

    /** The entry's timer: a class, not a lambda (a new version adopts its entries inside a live update, where a lambda's class would be spun). */
    private final class TimerHandler implements Runnable {
        @Override
        public void run() {
            timerExpired();
        }
    }

    /**
     * {@code neigh_output}: send now, or queue and resolve. A connected entry ({@code NUD_CONNECTED}:
     * REACHABLE, PERMANENT, NOARP) is used without its lock, as Linux reads the cached hardware header
     * under a seqlock: every packet of a stream takes this path. The address read may be one a
     * concurrent update has just replaced, which is as good as the packet sent just before it.
     */
    int output(SkBuff skb) {
        NudState s = state;
        MacAddress ll = lladdr;
        if ((s == NudState.REACHABLE || s == NudState.PERMANENT || s == NudState.NOARP) && ll != null && !dead) {
            long now = net.now();
            if (used != now) {
                used = now; // one store per clock tick, not per packet: the line stays shared between CPUs
            }
            return net.transmit(skb, dev, ll);
        }
        return outputSlow(skb);
    }

    private int outputSlow(SkBuff skb) {
        MacAddress sendTo = null;
        boolean solicit = false;
        SkBuff dropped = null;
        synchronized (this) {
            used = net.now();
            if (dead) {
                // collected or flushed while the caller held it (__neigh_event_send's out_dead): a known
                // address is still good for this packet, else it is dropped; the next one makes a new entry
                if (valid(state)) {
                    sendTo = lladdr;
                } else {
                    dropped = skb;
                }
            } else {
                switch (state) {
                    case REACHABLE, PERMANENT, NOARP, DELAY, PROBE -> sendTo = lladdr;
                    case STALE -> {
                        // used while stale: keep using it, and reconfirm if nothing confirms it soon
                        sendTo = lladdr;
                        enter(NudState.DELAY);
                        arm(parms.delayFirstProbeTime.get() * 1000L); // neigh_add_timer: the timer holds a reference
                    }
                    case INCOMPLETE -> dropped = enqueue(skb);
                    case FAILED -> {
                        dropped = enqueue(skb);
                        enter(NudState.INCOMPLETE);
                        probes = 0;
                        solicit = true;
                    }
                }
            }
        }
        if (dropped != null) {
            net.stat(NeighNet.Stat.unresolved_discards);
            dropped.free();
        }
        int rc = 0;
        if (sendTo != null) {
            rc = net.transmit(skb, dev, sendTo);
        }
        if (solicit) {
            solicitAndArm(true);
        }
        return rc;
    }

    /** Starts resolution of a new entry with its first packet. */
    void resolve(SkBuff first) {
        synchronized (this) {
            if (dead) {
                net.stat(NeighNet.Stat.unresolved_discards);
                first.free(); // flushed before its first request went out
                return;
            }
            queue.addLast(first);
            probes = 0;
        }
        solicitAndArm(true);
    }

    private SkBuff enqueue(SkBuff skb) {
        queue.addLast(skb);
        if (queue.size() > parms.unresQlen.get()) {
            return queue.pollFirst(); // the oldest goes, as __neigh_event_send drops it
        }
        return null;
    }

    private void solicitAndArm(boolean broadcast) {
        MacAddress to;
        int saddr = 0;
        synchronized (this) {
            probes++;
            to = broadcast ? null : lladdr;
            arm(parms.retransTimeMs.get());
            SkBuff last = queue.peekLast(); // arp_solicit names the source of the latest packet waiting
            if (last != null && last.protocol() == org.modnet.api.net.Eth.ETH_P_IP && last.headLen() >= 20) {
                saddr = last.getU32(last.data() + 12);
            }
        }
        net.solicit(dev, address, to, saddr);
    }

    /** {@code neigh_timer_handler}: runs only in the states that keep a timer. */
    private void timerExpired() {
        boolean notify = false;
        boolean probe = false;
        boolean broadcast = false;
        ArrayDeque<SkBuff> failed = null;
        synchronized (this) {
            if (dead) {
                return;
            }
            long now = net.now();
            switch (state) {
                case REACHABLE -> {
                    long reachable = parms.reachableTime();
                    long delay = parms.delayFirstProbeTime.get() * 1000L;
                    if (now - confirmed < reachable) {
                        arm(reachable - (now - confirmed));
                    } else if (now - used <= delay) {
                        enter(NudState.DELAY); // in use: give upper layers a moment to confirm, then probe
                        arm(delay);
                    } else {
                        enter(NudState.STALE); // no timer from here: periodic GC reaches it
                        notify = true;
                    }
                }
                case DELAY -> {
                    long delay = parms.delayFirstProbeTime.get() * 1000L;
                    if (now - confirmed < delay) {
                        enter(NudState.REACHABLE); // confirmed meanwhile
                        arm(parms.reachableTime());
                        notify = true;
                    } else {
                        enter(NudState.PROBE);
                        probes = 0;
                        probe = true;
                    }
                }
                case PROBE, INCOMPLETE -> {
                    int max = state == NudState.PROBE ? parms.ucastSolicit.get() : parms.mcastSolicit.get();
                    if (probes >= max) {
                        enter(NudState.FAILED); // neigh_invalidate: no timer; GC removes it
                        notify = true;
                        net.stat(NeighNet.Stat.res_failed);
                        failed = new ArrayDeque<>(queue);
                        queue.clear();
                    } else {
                        probe = true;
                        broadcast = state == NudState.INCOMPLETE;
                    }
                }
                default -> {
                }
            }
        }
        if (notify) {
            net.notify(this, Rtnetlink.RTM_NEWNEIGH); // neigh_timer_handler's neigh_update_notify
        }
        if (failed != null) {
            for (SkBuff skb : failed) {
                skb.dev(dev); // the device it was to leave by: the namespace IPv4 answers in
                net.unreachable(skb);
            }
        }
        if (probe) {
            solicitAndArm(broadcast);
        }
    }

    /**
     * {@code neigh_update} from ARP with the new state ARP gives: REACHABLE for a reply to us, STALE for
     * anything else. Without {@code override} (an ARP that came within {@code locktime} of the last
     * change, and is no gratuitous ARP) a valid entry keeps its link address: the first answer wins, so
     * two answerers cannot make the entry flap. The same address never demotes a valid entry to STALE.
     */
    void update(MacAddress from, NudState newState, boolean override) {
        ArrayDeque<SkBuff> ready = null;
        boolean notify;
        synchronized (this) {
            if (dead || state == NudState.PERMANENT || state == NudState.NOARP) {
                return;
            }
            long now = net.now();
            NudState old = state;
            boolean same = from.equals(lladdr);
            if (valid(old)) {
                if (!same && !override) {
                    return; // NEIGH_UPDATE_F_OVERRIDE missing: keep the first answer
                }
                if (same && newState == NudState.STALE) {
                    newState = old;
                }
            }
            if (newState == NudState.REACHABLE) {
                confirmed = now;
            }
            notify = newState != old || !same; // neigh_update notifies a change of state or address
            if (notify) {
                updated = now; // only a real change moves the locktime window
            }
            lladdr = from;
            if (newState != old) {
                state = newState;
                if (newState == NudState.REACHABLE) {
                    arm(parms.reachableTime());
                } else {
                    disarm(); // STALE keeps no timer
                }
            }
            if (!queue.isEmpty()) {
                ready = new ArrayDeque<>(queue);
                queue.clear();
            }
        }
        if (notify) {
            net.notify(this, Rtnetlink.RTM_NEWNEIGH);
        }
        if (ready != null) {
            for (SkBuff skb : ready) {
                net.transmit(skb, dev, from);
            }
        }
    }

    /** {@code NUD_VALID}: the entry has a link address to send to. */
    private static boolean valid(NudState s) {
        return s != NudState.INCOMPLETE && s != NudState.FAILED;
    }

    /** An administrator's entry ({@code ip neigh add}). */
    void set(MacAddress to, NudState s) {
        setLocked(to, s);
        net.notify(this, Rtnetlink.RTM_NEWNEIGH);
    }

    private synchronized void setLocked(MacAddress to, NudState s) {
        lladdr = to;
        enter(s);
        confirmed = net.now();
        if (s == NudState.REACHABLE) {
            arm(parms.reachableTime());
        } else {
            disarm(); // PERMANENT and NOARP never change; STALE waits for GC
        }
    }

    private void enter(NudState s) {
        state = s;
        updated = net.now();
    }

    /** {@code mod_timer}, remembering when it is due (the hand-over carries the time left). */
    private void arm(long delayMillis) {
        due = net.now() + delayMillis;
        timer.mod(delayMillis);
    }

    private void disarm() {
        due = -1;
        timer.del();
    }

    /**
     * An entry from the previous version's hand-over: state, link address, the ages of its last use,
     * confirmation and change, its probes, and its timer armed with the time it had left.
     */
    static NeighEntry adopt(NeighNet net, org.modnet.api.handover.NeighbourState st) {
        org.modnet.api.inet.Neighbour v = st.view();
        NeighEntry e = new NeighEntry(net, v.dev(), v.address(), v.state(), v.lladdr());
        long now = net.now();
        synchronized (e) {
            e.used = now - v.usedMs();
            e.confirmed = now - v.confirmedMs();
            e.updated = now - v.updatedMs();
            e.probes = v.probes();
            if (st.timerRemainingMs() >= 0) {
                e.arm(Math.max(1, st.timerRemainingMs()));
            }
        }
        return e;
    }

    /**
     * The entry as the hand-over carries it: its view and the time its timer has left. Its queued packets
     * ({@code view().queued()}) do not travel: they are dropped and counted when the old table retires.
     */
    org.modnet.api.handover.NeighbourState handOver() {
        synchronized (this) {
            long remaining = due < 0 || !timer.pending() ? -1 : Math.max(0, due - net.now());
            return new org.modnet.api.handover.NeighbourState(view(), remaining);
        }
    }

    /** Whether it has left the table ({@link #kill}). */
    boolean isDead() {
        return dead;
    }

    /** Removed from the table: its timer stops and queued packets are freed. */
    void kill() {
        ArrayDeque<SkBuff> left;
        synchronized (this) {
            dead = true;
            disarm();
            left = new ArrayDeque<>(queue);
            queue.clear();
        }
        for (SkBuff skb : left) {
            net.stat(NeighNet.Stat.unresolved_discards);
            skb.free();
        }
    }

    synchronized NudState state() {
        return state;
    }

    /**
     * References beyond the table's own ({@code ndm_refcnt}): an armed timer holds one, as
     * {@code neigh_add_timer} takes it. modnet's routes and sockets hold no neighbour, so an entry with no
     * timer is unreferenced, and GC may take it.
     */
    int refcnt() {
        return timer.pending() ? 1 : 0;
    }

    /** Not counted against the gc thresholds and never collected ({@code exempt_from_gc}). */
    synchronized boolean exempt() {
        return state == NudState.PERMANENT;
    }

    /**
     * {@code neigh_periodic_work}'s test: an unreferenced entry outside the timer states that failed or
     * has not been used for {@code gc_stale_time}. {@code used} catches up with a later confirmation first.
     */
    synchronized boolean staleForGc(long now) {
        switch (state) {
            case PERMANENT, INCOMPLETE, REACHABLE, DELAY, PROBE -> {
                return false;
            }
            default -> {
            }
        }
        if (used < confirmed && confirmed <= now) {
            used = confirmed;
        }
        return refcnt() == 0 && (state == NudState.FAILED || now - used >= parms.gcStaleTimeMs());
    }

    /**
     * {@code neigh_forced_gc}'s test: unreferenced and failed, NOARP, or not updated since {@code tref}
     * (five seconds ago): what was just learnt or confirmed stays.
     */
    synchronized boolean forcedGcCandidate(long tref) {
        return state != NudState.PERMANENT && refcnt() == 0
                && (state == NudState.FAILED || state == NudState.NOARP || updated < tref);
    }

    /** Whether ARP may override the link address: {@code locktime} has passed since the last change. */
    synchronized boolean pastLocktime(long now) {
        return now - updated > parms.locktimeMs();
    }

    synchronized Neighbour view() {
        long now = net.now();
        return new Neighbour(address, dev, lladdr, state, now - used, now - confirmed, now - updated, probes, queue.size(),
                refcnt());
    }
}
