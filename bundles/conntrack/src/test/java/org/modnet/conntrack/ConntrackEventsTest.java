package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/** {@code conntrack -E}: events as conntrack prints them, through a bounded ring per listener. */
class ConntrackEventsTest {
    private long now = 1_000_000;
    private final ConntrackTable t = new ConntrackTable(new TestSysctl(), () -> now, 64);
    private final Packets p = new Packets();

    private void pass(SkBuff skb) {
        assertEquals(Verdict.ACCEPT, t.in(skb));
        assertEquals(Verdict.ACCEPT, t.confirm(skb));
        skb.free();
    }

    /** Runs {@code conntrack ARGS} over what {@code traffic} does, stopping once it is done. */
    private List<String> events(Runnable traffic, String... args) {
        List<String> out = new ArrayList<>();
        boolean[] done = { false };
        Conntrack.events(t, args, out::add, () -> {
            if (!done[0]) {
                traffic.run(); // once the listener is there, as a flow that starts after conntrack -E does
                done[0] = true;
                return false;
            }
            return true;
        }, 0);
        return out;
    }

    private static final String FWD = "src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 ";
    private static final String REV = "src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000";

    @Test
    void aTcpConnectionsLifeIsItsEventsAsConntrackPrintsThem() {
        List<String> out = events(() -> {
            pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.SYN));
            pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.SYN | Packets.ACK));
            pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.ACK));
            pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.ACK)); // nothing changes: no event
            pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.FIN | Packets.ACK));
            Conntrack.run(t, "-F");
        }, "-E");
        assertEquals(List.of(
                "    [NEW] tcp      6 120 SYN_SENT " + FWD + "[UNREPLIED] " + REV,
                " [UPDATE] tcp      6 60 SYN_RECV " + FWD + REV,
                " [UPDATE] tcp      6 432000 ESTABLISHED " + FWD + REV + " [ASSURED]",
                " [UPDATE] tcp      6 120 FIN_WAIT " + FWD + REV + " [ASSURED]",
                "[DESTROY] tcp      6 120 FIN_WAIT " + FWD + REV + " [ASSURED]",
                "conntrack v1.4.7 (conntrack-tools): 5 flow events have been shown."), out);
    }

    @Test
    void theMaskAndTheProtocolPickTheEvents() {
        List<String> out = events(() -> {
            pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53));
            pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.SYN));
            pass(p.udp("10.0.0.2", 53, "10.0.0.1", 5000));
            now += 31_000; // the UDP flow times out; the collector destroys it
            t.gc();
        }, "-E", "-e", "NEW,DESTROY", "-p", "udp");
        assertEquals(List.of(
                "    [NEW] udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=5000",
                "[DESTROY] udp      17 0 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=5000",
                "conntrack v1.4.7 (conntrack-tools): 2 flow events have been shown."), out);
    }

    @Test
    void aFullRingLosesEventsAndCountsThem() {
        ConntrackEvents.Listener l = t.events.listen(ConntrackEvents.NEW, -1, 4);
        for (int i = 0; i < 6; i++) {
            pass(p.udp("10.0.0.1", 5000 + i, "10.0.0.2", 53));
        }
        assertEquals(2, l.lost.get(), "four fit, two were refused");
        List<Integer> ports = new ArrayList<>();
        assertEquals(4, l.drain((type, ct, state, status, mark, s) -> ports.add(ct.orig.sport)));
        assertEquals(List.of(5000, 5001, 5002, 5003), ports);
        pass(p.udp("10.0.0.1", 6000, "10.0.0.2", 53));
        assertEquals(1, l.drain((type, ct, state, status, mark, s) -> ports.add(ct.orig.sport)), "room again once read");
        t.events.unlisten(l);
        assertFalse(t.events.listening());
    }
}
