package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

/** htb through tc on the rig's virtual clock: rates, ceilings, borrowing, classes as tc shows them. */
class HtbTest {
    private static final int A = 0x10010; // 1:10
    private static final int B = 0x10020; // 1:20

    private final SchedRig rig;

    HtbTest() throws Exception {
        rig = new SchedRig();
    }

    @AfterEach
    void close() {
        rig.close();
        assertEquals(0, rig.core.core().pool().inUse(), "every skb went back to the pool");
    }

    private SchHtb htb() {
        return (SchHtb) rig.qdisc();
    }

    /** A 10 Mbit/s parent 1:1 with leaves 1:10 and 1:20 of {@code leafArgs}; unclassified traffic to 1:20. */
    private void twoClasses(String leafA, String leafB) {
        rig.tc("qdisc add dev va root handle 1: htb default 20");
        rig.tc("class add dev va parent 1: classid 1:1 htb rate 10mbit");
        rig.tc("class add dev va parent 1:1 classid 1:10 htb " + leafA);
        rig.tc("class add dev va parent 1:1 classid 1:20 htb " + leafB);
    }

    /**
     * Keeps each named class's queue at 20 frames of 1000 bytes for {@code ms} milliseconds of
     * virtual time; returns the bytes each class sent.
     */
    private long[] flood(int ms, int... classids) {
        SchHtb q = htb();
        long[] before = new long[classids.length];
        for (int i = 0; i < classids.length; i++) {
            before[i] = q.find(classids[i]).bytes;
        }
        for (int t = 0; t < ms; t++) {
            for (int id : classids) {
                while (q.find(id).leaf.qlen() < 20) {
                    rig.core.core().devQueueXmit(rig.frame(1000, id));
                }
            }
            rig.advanceMillis(1);
        }
        long[] sent = new long[classids.length];
        for (int i = 0; i < classids.length; i++) {
            sent[i] = q.find(classids[i]).bytes - before[i];
        }
        return sent;
    }

    @Test
    void twoBusyClassesUnderATenMbitParentEachGetTheirFiveMbit() {
        twoClasses("rate 5mbit ceil 10mbit", "rate 5mbit ceil 10mbit");
        long[] sent = flood(2000, A, B);
        // 2 s at 10 Mbit/s is 2.5 MB; each class's share is half of that
        assertEquals(1_250_000, sent[0], 1_250_000 * 0.1, "1:10 sent " + sent[0]);
        assertEquals(1_250_000, sent[1], 1_250_000 * 0.1, "1:20 sent " + sent[1]);
        assertEquals(2_500_000, rig.receivedBytes, 2_500_000 * 0.05, "the parent's 10 Mbit/s is what arrives");
        rig.qdisc().reset();
    }

    @Test
    void sharesFollowTheRatesWhenTheyDiffer() {
        twoClasses("rate 2mbit ceil 10mbit", "rate 8mbit ceil 10mbit");
        long[] sent = flood(2000, A, B);
        assertEquals(500_000, sent[0], 500_000 * 0.1, "1:10 sent " + sent[0]);
        assertEquals(2_000_000, sent[1], 2_000_000 * 0.1, "1:20 sent " + sent[1]);
        rig.qdisc().reset();
    }

    @Test
    void aLoneBusyClassBorrowsUpToItsCeilAndNoFurther() {
        twoClasses("rate 2mbit ceil 6mbit", "rate 5mbit ceil 5mbit");
        long[] sent = flood(2000, A);
        assertEquals(1_500_000, sent[0], 1_500_000 * 0.05, "6 Mbit/s for 2 s: 1:10 sent " + sent[0]);
        SchHtb.HtbClass a = htb().find(A);
        assertTrue(a.borrows > 0 && a.lends > 0, "it sent on its own rate and on borrowed tokens");
        assertEquals(a.borrows, htb().find(0x10001).lends, "what 1:10 borrowed, 1:1 lent");
        long[] b = flood(2000, B);
        assertEquals(1_250_000, b[0], 1_250_000 * 0.05, "a ceil equal to the rate borrows nothing: 1:20 sent " + b[0]);
        assertEquals(0, htb().find(B).borrows);
        rig.qdisc().reset();
    }

    @Test
    void theLowerPrioLeafBorrowsFirst() {
        twoClasses("rate 1mbit ceil 10mbit prio 0", "rate 1mbit ceil 10mbit prio 1");
        long[] sent = flood(2000, A, B);
        // both keep their 1 Mbit/s; the 8 Mbit/s left to borrow goes to prio 0
        assertEquals(2_250_000, sent[0], 2_250_000 * 0.05, "1:10 sent " + sent[0]);
        assertEquals(250_000, sent[1], 250_000 * 0.1, "1:20 sent " + sent[1]);
        rig.qdisc().reset();
    }

    @Test
    void classShowPrintsRatesAndBucketsInTcsWords() {
        twoClasses("rate 5mbit ceil 10mbit", "rate 5mbit ceil 10mbit prio 2 burst 15k");
        assertEquals(List.of("class htb 1:1 root rate 10Mbit ceil 10Mbit burst 1600b cburst 1600b ",
                "class htb 1:10 parent 1:1 prio 0 rate 5Mbit ceil 10Mbit burst 1600b cburst 1600b ",
                "class htb 1:20 parent 1:1 prio 2 rate 5Mbit ceil 10Mbit burst 15Kb cburst 1600b "), rig.tc("class show dev va"));
        assertEquals(List.of("qdisc htb 1: root refcnt 2 r2q 10 default 0x20 direct_packets_stat 0 direct_qlen "
                + Math.max(1, rig.va.txQueueLen()) + " "), rig.tc("qdisc show dev va"));
        List<String> s = rig.tc("-s class show dev va");
        // 1600 bytes at 10 Mbit/s are 1.28 ms of tokens: 20000 ticks of 64 ns; at 5 Mbit/s 40000
        assertEquals(List.of("class htb 1:10 parent 1:1 prio 0 rate 5Mbit ceil 10Mbit burst 1600b cburst 1600b ",
                " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) ", " backlog 0b 0p requeues 0",
                " lended: 0 borrowed: 0 giants: 0", " tokens: 40000 ctokens: 20000"), s.subList(5, 10));
    }

    @Test
    void aQdiscAddedUnderALeafTakesItsQueueAndShowsAsItsLeaf() {
        twoClasses("rate 5mbit ceil 10mbit", "rate 5mbit ceil 10mbit");
        rig.tc("qdisc add dev va parent 1:10 handle 10: pfifo limit 5");
        assertEquals("class htb 1:10 parent 1:1 leaf 10: prio 0 rate 5Mbit ceil 10Mbit burst 1600b cburst 1600b ",
                rig.tc("class show dev va").get(1));
        assertEquals("qdisc pfifo 10: parent 1:10 limit 5p", rig.tc("qdisc show dev va").get(1).trim());
        assertEquals("RTNETLINK answers: Specified class not found.".replace("RTNETLINK answers: ", "Error: "),
                assertThrows(CommandException.class, () -> rig.tc("qdisc add dev va parent 1:1 pfifo")).getMessage(),
                "an inner class holds no qdisc");
    }

    @Test
    void unclassifiedTrafficWithoutADefaultClassGoesDirectAndIsCounted() {
        rig.tc("qdisc add dev va root handle 1: htb");
        rig.tc("class add dev va parent 1: classid 1:1 htb rate 1mbit");
        for (int i = 0; i < 3; i++) {
            rig.send(100);
        }
        rig.core.run();
        assertEquals(3, rig.received, "the direct queue is not shaped");
        assertEquals(3, htb().directPackets());
        assertTrue(rig.tc("qdisc show dev va").get(0).contains("direct_packets_stat 3 "));
    }

    @Test
    void badClassCommandsAreRefusedInTcsWords() {
        twoClasses("rate 5mbit", "rate 5mbit");
        assertEquals("RTNETLINK answers: No such file or directory",
                assertThrows(CommandException.class, () -> rig.tc("class add dev va parent 1:5 classid 1:30 htb rate 1mbit")).getMessage());
        assertEquals("RTNETLINK answers: File exists",
                assertThrows(CommandException.class, () -> rig.tc("class add dev va parent 1:1 classid 1:10 htb rate 1mbit")).getMessage());
        assertEquals("\"rate\" is required.",
                assertThrows(CommandException.class, () -> rig.tc("class add dev va parent 1:1 classid 1:30 htb ceil 1mbit")).getMessage());
        assertEquals("Error: HTB class in use.", assertThrows(CommandException.class, () -> rig.tc("class del dev va classid 1:1")).getMessage());
        assertEquals("RTNETLINK answers: No such file or directory",
                assertThrows(CommandException.class, () -> rig.tc("class change dev va classid 2:10 htb rate 1mbit")).getMessage());
        assertEquals(3, rig.tc("class show dev va").size(), "nothing changed");
    }

    @Test
    void deletingTheLastChildGivesTheParentAQueueAgain() {
        twoClasses("rate 5mbit", "rate 5mbit");
        rig.tc("class del dev va classid 1:10");
        rig.tc("class del dev va classid 1:20");
        assertTrue(htb().hasLeaf(0x10001));
        rig.tc("class change dev va classid 1:1 htb rate 1mbit ceil 2mbit");
        assertEquals(List.of("class htb 1:1 root prio 0 rate 1Mbit ceil 2Mbit burst 1600b cburst 1600b "), rig.tc("class show dev va"));
    }
    @Test
    void filtersOnTheClassifyHookPickTheClassOrDrop() {
        twoClasses("rate 5mbit ceil 10mbit", "rate 5mbit ceil 10mbit");
        ClassfulQdisc root = rig.tc.api().classful(rig.va, 0x10000);
        root.filters((skb, res) -> { // what a tc filter would do: 500-byte frames to 1:10, 600-byte ones dropped
            if (skb.len() == 600) {
                return TcfClassifier.TC_ACT_SHOT;
            }
            if (skb.len() != 500) {
                return TcfClassifier.TC_ACT_UNSPEC;
            }
            res.classid = A;
            return TcfClassifier.TC_ACT_OK;
        });
        rig.send(500);
        rig.send(400);
        rig.send(600);
        rig.core.run();
        assertEquals(500, htb().find(A).bytes, "the filter's class");
        assertEquals(400, htb().find(B).bytes, "no match: the default class");
        assertEquals(1, htb().stats().drops(), "TC_ACT_SHOT drops and counts");
        root.filters(TcfClassifier.NONE);
        rig.send(500);
        rig.core.run();
        assertEquals(900, htb().find(B).bytes, "without filters it goes to the default class");
    }

    @Test
    void classShowListsPriosBandsWithTheirChildren() {
        rig.tc("qdisc add dev va root handle 1: prio bands 2 priomap 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1");
        rig.tc("qdisc add dev va parent 1:2 handle 20: pfifo limit 10");
        assertEquals(List.of("class prio 1:1 parent 1: ", "class prio 1:2 parent 1: leaf 20: "), rig.tc("class show dev va"));
        assertEquals("RTNETLINK answers: Operation not supported",
                assertThrows(CommandException.class, () -> rig.tc("class add dev va parent 1: classid 1:3 htb rate 1mbit")).getMessage());
    }
    @Test
    void aThrottledClassIsWokenByItsWatchdogAtItsRate() {
        rig.tc("qdisc add dev va root handle 1: htb default 10");
        rig.tc("class add dev va parent 1: classid 1:10 htb rate 1mbit burst 1000");
        for (int i = 0; i < 10; i++) {
            rig.send(1000); // 8 ms each at 1 Mbit/s
        }
        rig.core.run();
        // htb_class_mode looks before charging: a full bucket of 1000 bytes lets one go, and an empty one (0 is not below 0) one more
        assertEquals(2, rig.received);
        assertTrue(htb().stats().overlimits() > 0, "it went over its limit");
        for (int ms = 0; ms < 60; ms++) {
            rig.advanceMillis(1); // nothing new is sent: only the watchdog runs the qdisc
        }
        assertEquals(9, rig.received, "then one packet per 8 ms: at 8, 16, ... 56 ms");
        for (int ms = 0; ms < 12; ms++) {
            rig.advanceMillis(1);
        }
        assertEquals(10, rig.received);
    }
    @Test
    void aLeafWhoseNetemHoldsItsPacketDoesNotKeepAThrottledClassAsleep() {
        rig.tc("qdisc add dev va root handle 1: htb default 20");
        rig.tc("class add dev va parent 1: classid 1:10 htb rate 10mbit");
        rig.tc("class add dev va parent 1: classid 1:20 htb rate 1mbit burst 1000");
        rig.tc("qdisc add dev va parent 1:10 handle 10: netem delay 50ms");
        rig.core.core().devQueueXmit(rig.frame(100, A)); // held by netem for 50 ms
        for (int i = 0; i < 10; i++) {
            rig.send(1000); // 1:20: two at once, then one per 8 ms
        }
        rig.core.run();
        for (int ms = 0; ms < 25; ms++) {
            rig.advanceMillis(1);
        }
        assertEquals(5, rig.received, "1:20 at 0, 0, 8, 16 and 24 ms while 1:10's packet waits in netem");
        for (int ms = 0; ms < 30; ms++) {
            rig.advanceMillis(1);
        }
        assertEquals(100, htb().find(A).bytes, "netem let it go after 50 ms");
        rig.qdisc().reset();
    }
}
