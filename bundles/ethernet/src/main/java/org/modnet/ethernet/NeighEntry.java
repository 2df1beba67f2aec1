package org.modnet.ethernet;

import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.Timer;
import org.modnet.api.skb.SkBuff;

/**
 * One neighbour ({@code struct neighbour}) and its NUD state machine, as {@code neigh_timer_handler},
 * {@code __neigh_event_send} and {@code neigh_update} drive it: INCOMPLETE while broadcast requests go
 * out (packets wait in a bounded queue), REACHABLE when confirmed, STALE when the confirmation is old,
 * DELAY and PROBE to reconfirm on use, FAILED when nobody answers. All state changes hold the entry's
 * lock; packets and requests are sent outside it.
 */
final class NeighEntry {
    final NeighNet net;
    final NetDevice dev;
    final int address;
    private final Timer timer;

    private NudState state;
    private MacAddress lladdr;
    private long used;
    private long confirmed;
    private long updated;
    private int probes;
    private final ArrayDeque<SkBuff> queue = new ArrayDeque<>();
    private boolean dead;

    NeighEntry(NeighNet net, NetDevice dev, int address, NudState state, MacAddress lladdr) {
        this.net = net;
        this.dev = dev;
        this.address = address;
        this.state = state;
        this.lladdr = lladdr;
        long now = net.now();
        this.used = now;
        this.confirmed = now;
        this.updated = now;
        this.timer = net.timer(address, this::timerExpired);
    }

    /** {@code neigh_output}: send now, or queue and resolve. */
    void output(SkBuff skb) {
        MacAddress sendTo = null;
        boolean solicit = false;
        SkBuff dropped = null;
        synchronized (this) {
            used = net.now();
            switch (state) {
                case REACHABLE, PERMANENT, NOARP, DELAY, PROBE -> sendTo = lladdr;
                case STALE -> {
                    // used while stale: keep using it, and reconfirm if nothing confirms it soon
                    sendTo = lladdr;
                    enter(NudState.DELAY);
                    timer.mod(net.params.delayFirstProbeTime.get() * 1000L);
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
        if (dropped != null) {
            net.stat(NeighNet.Stat.unresolved_discards);
            dropped.free();
        }
        if (sendTo != null) {
            net.transmit(skb, dev, sendTo);
        }
        if (solicit) {
            solicitAndArm(true);
        }
    }

    /** Starts resolution of a new entry with its first packet. */
    void resolve(SkBuff first) {
        synchronized (this) {
            queue.addLast(first);
            probes = 0;
        }
        solicitAndArm(true);
    }

    private SkBuff enqueue(SkBuff skb) {
        queue.addLast(skb);
        if (queue.size() > net.params.unresQlen.get()) {
            return queue.pollFirst(); // the oldest goes, as __neigh_event_send drops it
        }
        return null;
    }

    private void solicitAndArm(boolean broadcast) {
        MacAddress to;
        synchronized (this) {
            probes++;
            to = broadcast ? null : lladdr;
            timer.mod(net.params.retransTimeMs.get());
        }
        net.solicit(dev, address, to);
    }

    /** {@code neigh_timer_handler}. */
    private void timerExpired() {
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
                    long reachable = reachableTime();
                    if (now - confirmed < reachable) {
                        timer.mod(reachable - (now - confirmed));
                    } else {
                        enter(NudState.STALE);
                        timer.mod(net.params.gcStaleTime.get() * 1000L);
                    }
                }
                case DELAY -> {
                    long delay = net.params.delayFirstProbeTime.get() * 1000L;
                    if (now - confirmed < delay) {
                        enter(NudState.REACHABLE); // confirmed meanwhile
                        timer.mod(reachableTime());
                    } else {
                        enter(NudState.PROBE);
                        probes = 0;
                        probe = true;
                    }
                }
                case PROBE, INCOMPLETE -> {
                    int max = state == NudState.PROBE ? net.params.ucastSolicit.get() : net.params.mcastSolicit.get();
                    if (probes >= max) {
                        enter(NudState.FAILED);
                        net.stat(NeighNet.Stat.res_failed);
                        failed = new ArrayDeque<>(queue);
                        queue.clear();
                        timer.mod(net.params.gcStaleTime.get() * 1000L);
                    } else {
                        probe = true;
                        broadcast = state == NudState.INCOMPLETE;
                    }
                }
                case STALE, FAILED -> {
                    if (now - used >= net.params.gcStaleTime.get() * 1000L) {
                        net.remove(this); // garbage collection of an unused entry
                    } else {
                        timer.mod(net.params.gcStaleTime.get() * 1000L - (now - used));
                    }
                }
                default -> {
                }
            }
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
     * {@code neigh_update} from ARP: {@code solicited} when it answers our request (a reply to us), which
     * confirms reachability; otherwise (a request, a gratuitous ARP) the address is only known: STALE.
     */
    void update(MacAddress from, boolean solicited) {
        ArrayDeque<SkBuff> ready = null;
        synchronized (this) {
            if (dead || state == NudState.PERMANENT || state == NudState.NOARP) {
                return;
            }
            long now = net.now();
            boolean changed = lladdr == null || !lladdr.equals(from);
            lladdr = from;
            if (solicited) {
                confirmed = now;
                enter(NudState.REACHABLE);
                timer.mod(reachableTime());
            } else if (changed || state == NudState.INCOMPLETE || state == NudState.FAILED) {
                enter(NudState.STALE);
                timer.mod(net.params.gcStaleTime.get() * 1000L);
            }
            if (!queue.isEmpty()) {
                ready = new ArrayDeque<>(queue);
                queue.clear();
            }
        }
        if (ready != null) {
            for (SkBuff skb : ready) {
                net.transmit(skb, dev, from);
            }
        }
    }

    /** An administrator's entry ({@code ip neigh add}). */
    synchronized void set(MacAddress to, NudState s) {
        lladdr = to;
        enter(s);
        confirmed = net.now();
        if (s == NudState.PERMANENT || s == NudState.NOARP) {
            timer.del();
        } else if (s == NudState.REACHABLE) {
            timer.mod(reachableTime());
        }
    }

    private void enter(NudState s) {
        state = s;
        updated = net.now();
    }

    /** {@code neigh_rand_reach_time}: base_reachable_time scaled by a random factor in [0.5, 1.5). */
    private long reachableTime() {
        long base = net.params.baseReachableTimeMs.get();
        return base / 2 + ThreadLocalRandom.current().nextLong(Math.max(1, base));
    }

    /** Removed from the table: its timer stops and queued packets are freed. */
    void kill() {
        ArrayDeque<SkBuff> left;
        synchronized (this) {
            dead = true;
            timer.del();
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

    synchronized Neighbour view() {
        long now = net.now();
        return new Neighbour(address, dev, lladdr, state, now - used, now - confirmed, now - updated, probes, queue.size());
    }
}
