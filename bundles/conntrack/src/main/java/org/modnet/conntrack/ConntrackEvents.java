package org.modnet.conntrack;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * nf_conntrack_ecache.c and ctnetlink's event groups: what {@code conntrack -E} reads. Each listener has
 * a ring of its own, made whole when it starts listening; the packet path writes an event's snapshot
 * (the entry, its state, status, mark and seconds left) into a claimed slot and allocates nothing. A
 * full ring refuses the event and counts it, as a netlink socket whose buffer is full loses events
 * (ENOBUFS). With nobody listening an event costs one read of an empty array.
 */
final class ConntrackEvents {
    /** The event groups: NFNLGRP_CONNTRACK_NEW, _UPDATE, _DESTROY. */
    static final int NEW = 1, UPDATE = 2, DESTROY = 4;
    static final String[] NAMES = { null, "[NEW]", "[UPDATE]", null, "[DESTROY]" };

    /** One {@code conntrack -E}: a bounded multi-producer ring drained by its one reader. */
    static final class Listener {
        final int mask, proto;
        private final int slots;
        private final NfConn[] conns;
        private final int[] types, states, statuses, marks;
        private final long[] seconds;
        /** Per slot, the ticket it was last written for plus one: the reader waits for exactly that. */
        private final AtomicLongArray ready;
        private final AtomicLong tail = new AtomicLong();
        private volatile long head;
        /** Events refused because the ring was full. */
        final AtomicLong lost = new AtomicLong();

        Listener(int mask, int proto, int slots) {
            this.mask = mask;
            this.proto = proto;
            this.slots = slots;
            conns = new NfConn[slots];
            types = new int[slots];
            states = new int[slots];
            statuses = new int[slots];
            marks = new int[slots];
            seconds = new long[slots];
            ready = new AtomicLongArray(slots);
        }

        void offer(int type, NfConn ct, long secondsLeft) {
            long t;
            do {
                t = tail.get();
                if (t - head >= slots) {
                    lost.incrementAndGet();
                    return;
                }
            } while (!tail.compareAndSet(t, t + 1));
            int i = (int) (t % slots);
            conns[i] = ct;
            types[i] = type;
            states[i] = ct.state;
            statuses[i] = ct.status;
            marks[i] = ct.mark;
            seconds[i] = secondsLeft;
            ready.set(i, t + 1); // publishes the fields above
        }

        /** What the reader is handed per event. */
        interface Sink {
            void event(int type, NfConn ct, int state, int status, int mark, long secondsLeft);
        }

        /** Hands every event written so far to the sink, in order; returns how many. */
        int drain(Sink sink) {
            int n = 0;
            for (long h = head;; h++) {
                int i = (int) (h % slots);
                if (ready.get(i) != h + 1) {
                    head = h;
                    return n;
                }
                NfConn ct = conns[i];
                conns[i] = null;
                sink.event(types[i], ct, states[i], statuses[i], marks[i], seconds[i]);
                head = h + 1;
                n++;
            }
        }
    }

    private volatile Listener[] listeners = new Listener[0];
    private final ConntrackTable table;

    ConntrackEvents(ConntrackTable table) {
        this.table = table;
    }

    /** nf_conntrack_event_cache + delivery: to each listener that asked for the type and the protocol. */
    void event(int type, NfConn ct) {
        Listener[] ls = listeners;
        if (ls.length == 0) {
            return;
        }
        long left = table.secondsLeft(ct);
        for (Listener l : ls) {
            if ((l.mask & type) != 0 && (l.proto < 0 || l.proto == ct.proto)) {
                l.offer(type, ct, left);
            }
        }
    }

    synchronized Listener listen(int mask, int proto, int slots) {
        Listener l = new Listener(mask, proto, slots);
        Listener[] ls = java.util.Arrays.copyOf(listeners, listeners.length + 1);
        ls[ls.length - 1] = l;
        listeners = ls;
        return l;
    }

    synchronized void unlisten(Listener l) {
        listeners = java.util.Arrays.stream(listeners).filter(x -> x != l).toArray(Listener[]::new);
    }

    boolean listening() {
        return listeners.length > 0;
    }
}
