package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.NfQueue;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** NFQUEUE: the queues, their consumer's verdicts and reinjection, the bound, /proc's columns, iptables' syntax and output. */
class NfQueueTest {
    private final SkBuffPool pool = new SkBuffPool(2048, 512);
    private final NfQueueCore queues = new NfQueueCore(null);
    private final NetNamespace ns = (NetNamespace) Proxy.newProxyInstance(NetNamespace.class.getClassLoader(),
            new Class<?>[] { NetNamespace.class }, (p, m, a) -> m.getName().equals("hashCode") ? 3 : m.getName().equals("equals") ? p == a[0] : null);
    private final NfHookFunction from = (skb, hook, n, in, out) -> Verdict.ACCEPT;
    /** What IPv4 was asked to reinject, and with which verdict. */
    private final List<SkBuff> reinjected = new ArrayList<>();
    private final List<Verdict> reinjectedVerdicts = new ArrayList<>();

    NfQueueTest() {
        queues.setIpv4((Ipv4) Proxy.newProxyInstance(Ipv4.class.getClassLoader(), new Class<?>[] { Ipv4.class }, (p, m, a) -> {
            if (m.getName().equals("nfReinject")) {
                assertSame(from, a[2], "reinjection resumes after the function that queued");
                reinjected.add((SkBuff) a[0]);
                reinjectedVerdicts.add(a.length > 6 ? (Verdict) a[6] : Verdict.ACCEPT);
            }
            return null;
        }));
    }

    private SkBuff udp() {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(28);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 28);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 17);
        skb.setU32(nh + 12, 0x0a000001);
        skb.setU32(nh + 16, 0x0a000002);
        skb.setU16(nh + 20, 1000);
        skb.setU16(nh + 22, 2000);
        return skb;
    }

    private Verdict enqueue(SkBuff skb, int num, boolean bypass) {
        return queues.enqueue(skb, NfHook.LOCAL_IN, ns, null, null, num, bypass, from);
    }

    @Test
    void withoutAConsumerAPacketIsDroppedAndCountedUnlessBypass() {
        assertEquals(Verdict.DROP, enqueue(udp(), 3, false));
        assertEquals(1, queues.unboundDrops(ns));
        assertEquals(Verdict.ACCEPT, enqueue(udp(), 3, true), "--queue-bypass lets it through");
        assertEquals(1, queues.unboundDrops(ns));
    }

    @Test
    void aPacketWaitsForItsVerdictAndAnAcceptedOneGoesOnThroughIpv4() throws Exception {
        try (NfQueue.Listener l = queues.bind(ns, 3)) {
            SkBuff skb = udp();
            assertEquals(Verdict.STOLEN, enqueue(skb, 3, false));
            assertTrue(reinjected.isEmpty(), "nothing goes on before the verdict");
            NfQueue.Packet p = l.take(1000);
            assertEquals(1, p.id());
            assertSame(skb, p.skb());
            assertEquals(NfHook.LOCAL_IN, p.hook());
            String line = NfQueueCore.line(p);
            assertTrue(line.startsWith("id=1 hook=INPUT IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=28 ") && line.contains(" PROTO=UDP SPT=1000 DPT=2000"),
                    line);
            l.verdict(p, Verdict.ACCEPT);
            assertEquals(List.of(skb), reinjected);
            assertNull(l.take(0), "one packet, one take");
        }
    }

    @Test
    void repeatAndStopGoBackToIpv4WithTheirVerdictAndStolenDrops() throws Exception {
        try (NfQueue.Listener l = queues.bind(ns, 4)) {
            for (int i = 0; i < 3; i++) {
                assertEquals(Verdict.STOLEN, enqueue(udp(), 4, false));
            }
            int used = pool.inUse();
            l.verdict(l.take(0), Verdict.REPEAT);
            l.verdict(l.take(0), Verdict.STOP);
            l.verdict(l.take(0), Verdict.STOLEN);
            assertEquals(List.of(Verdict.REPEAT, Verdict.STOP), reinjectedVerdicts);
            assertEquals(used - 1, pool.inUse(), "a STOLEN verdict from user space frees the packet");
        }
        for (SkBuff skb : reinjected) {
            skb.free();
        }
    }

    @Test
    void aDroppedVerdictFreesThePacket() throws Exception {
        int used = pool.inUse();
        try (NfQueue.Listener l = queues.bind(ns, 0)) {
            enqueue(udp(), 0, false);
            l.verdict(l.take(1000), Verdict.DROP);
        }
        assertEquals(used, pool.inUse());
        assertTrue(reinjected.isEmpty());
    }

    @Test
    void theQueueIsBoundedAndCountsWhatItRefuses() throws Exception {
        try (NfQueue.Listener l = queues.bind(ns, 1)) {
            for (int i = 0; i < NfQueueCore.QUEUE_MAXLEN; i++) {
                assertEquals(Verdict.STOLEN, enqueue(udp(), 1, false));
            }
            SkBuff extra = udp();
            assertEquals(Verdict.DROP, enqueue(extra, 1, false));
            extra.free();
            // queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped id_sequence 1
            String[] f = queues.read(ns).get(0).trim().split("\\s+");
            assertEquals(List.of("1", "1024", "2", "65535", "1", "0", "1024", "1"),
                    List.of(f[0], f[2], f[3], f[4], f[5], f[6], f[7], f[8]));
            l.verdict(l.take(0), Verdict.DROP);
            assertEquals(Verdict.STOLEN, enqueue(udp(), 1, false), "a verdict makes room");
        }
        assertEquals(List.of(), queues.read(ns), "an unbound queue has no line");
    }

    @Test
    void closingTheConsumerDropsWhatStillWaitsAndASecondConsumerIsRefused() throws Exception {
        int used = pool.inUse();
        NfQueue.Listener l = queues.bind(ns, 2);
        assertEquals(org.modnet.api.net.Errno.EBUSY, assertThrows(NetException.class, () -> queues.bind(ns, 2)).errno());
        enqueue(udp(), 2, false);
        enqueue(udp(), 2, false);
        l.take(0); // taken, no verdict yet
        l.close();
        assertEquals(used, pool.inUse());
        assertEquals(Verdict.DROP, enqueue(udp(), 2, false), "closed: no consumer now");
    }

    @Test
    void theCommandPrintsEachPacketAndItsVerdict() throws Exception {
        Thread producer = new Thread(() -> {
            for (int i = 0; i < 3000 && queues.read(ns).isEmpty(); i++) { // until the command has bound queue 7
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
            enqueue(udp(), 7, false);
        });
        producer.start();
        List<String> out = new ArrayList<>();
        queues.run(ns, new String[] { "-q", "7", "--drop", "-c", "1", "-t", "60" }, out::add);
        producer.join();
        assertEquals(2, out.size());
        assertTrue(out.get(0).startsWith("id=1 hook=INPUT IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 ") && out.get(0).endsWith(" DROP"), out.get(0));
        assertEquals("1 packets judged on queue 7", out.get(1));
        assertTrue(reinjected.isEmpty());
        assertEquals("nfqueue: a queue number is required (-q N)\nUsage: nfqueue -q N [--accept|--drop|--repeat|--stop] [-c COUNT] [-t SECONDS]",
                assertThrows(CommandException.class, () -> queues.run(ns, new String[] { "--drop" }, out::add)).getMessage());
    }

    // ------------------------------------------------------------------ iptables -j NFQUEUE

    private static List<String> ipt(FilterTable t, String line) {
        return Iptables.run(t, Restore.split(line).toArray(new String[0]));
    }

    @Test
    void iptablesPrintsNfqueueAsLinuxDoes() {
        // what iptables-legacy 1.8.9 printed for the same rules
        FilterTable t = new FilterTable();
        ipt(t, "-A INPUT -p udp -j NFQUEUE --queue-num 3 --queue-bypass");
        ipt(t, "-A INPUT -j NFQUEUE --queue-num 4");
        ipt(t, "-A INPUT -j NFQUEUE");
        ipt(t, "-A INPUT -j QUEUE");
        assertEquals(List.of("-P INPUT ACCEPT", "-A INPUT -p udp -j NFQUEUE --queue-num 3 --queue-bypass",
                "-A INPUT -j NFQUEUE --queue-num 4", "-A INPUT -j NFQUEUE --queue-num 0", "-A INPUT -j QUEUE"), ipt(t, "-S INPUT"));
        List<String> l = ipt(t, "-L INPUT -n");
        assertEquals("NFQUEUE    17   --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 3 bypass", l.get(2));
        assertEquals("NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 4", l.get(3));
        assertEquals("iptables v1.8.9 (legacy): NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n\n"
                + "Try `iptables -h' or 'iptables --help' for more information.",
                assertThrows(CommandException.class, () -> ipt(t, "-A INPUT -j NFQUEUE --queue-num 70000")).getMessage());
    }

    @Test
    void anNfqueueRuleHandsItsPacketToTheQueueAndTheWalkEnds() throws Exception {
        FilterTable t = new FilterTable();
        ipt(t, "-A INPUT -p udp -j NFQUEUE --queue-num 5");
        ipt(t, "-A INPUT -j DROP");
        t.queuer = (skb, hook, in, out, num, bypass) -> queues.enqueue(skb, hook, ns, in, out, num, bypass, from);
        SkBuff skb = udp();
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, skb, null, null), "no consumer: dropped");
        try (NfQueue.Listener l = queues.bind(ns, 5)) {
            assertEquals(Verdict.STOLEN, t.run(NfHook.LOCAL_IN, skb, null, null));
            assertSame(skb, l.take(0).skb());
        }
        t.queuer = null;
        ipt(t, "-R INPUT 1 -p udp -j NFQUEUE --queue-num 5 --queue-bypass");
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, udp(), null, null), "bypass without nfnetlink_queue accepts");
    }
}
