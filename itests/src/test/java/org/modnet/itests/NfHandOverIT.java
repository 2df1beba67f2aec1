package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.net.NetCore;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;
import org.modnet.socket.api.Sockets;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * Issue 15's hand-over for netfilter, conntrack and tc's bpf filters on a real Felix: a client
 * namespace {@code a}, a router {@code r} that masquerades a's traffic behind a stateful FORWARD policy
 * (ESTABLISHED,RELATED accepted, everything else dropped unless it comes from a), and a server {@code b}
 * with no route back to a. A TCP stream and a UDP flow cross r while {@code update netfilter} and then
 * {@code update conntrack} replace the bundles with rebuilt jars: the stream arrives intact, no datagram
 * is lost, the rules keep their counters and conntrack lists the same flows. And a tc bpf filter that
 * counts in a map counts on with the new eBPF version's program after {@code update ebpf}.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class NfHandOverIT {
    private static final int B = 0x0a000202; // 10.0.2.2
    private static final long STREAM_BYTES = 24L << 20;

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    private Sockets sockets;

    @Configuration
    public Option[] config() throws Exception {
        Option[] boot = ModnetRuntime.options();
        Option[] all = Arrays.copyOf(boot, boot.length + 1);
        all[boot.length] = org.ops4j.pax.exam.CoreOptions.bundle(ModnetRuntime.root()
                .resolve("run-configs/target/repo/org.modnet.sock-0.1.0-SNAPSHOT.jar").toUri().toString());
        return all;
    }

    @Before
    public void aRouterBetweenTwoNamespaces() throws Exception {
        features.install("full");
        ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, StateHolder.class, null);
        ModnetRuntime.service(context, org.modnet.api.netfilter.NfHookFunction.class, null);
        for (String c : new String[] { "ip netns add a", "ip netns add r", "ip netns add b",
                "ip -n r link add ra type veth peer name a0", "ip -n r link set a0 netns a",
                "ip -n r link add rb type veth peer name b0", "ip -n r link set b0 netns b",
                "ip -n a addr add 10.0.1.2/24 dev a0", "ip -n r addr add 10.0.1.1/24 dev ra",
                "ip -n r addr add 10.0.2.1/24 dev rb", "ip -n b addr add 10.0.2.2/24 dev b0",
                "ip -n a link set a0 up", "ip -n r link set ra up", "ip -n r link set rb up", "ip -n b link set b0 up",
                "ip -n a route add default via 10.0.1.1", "ip netns exec r sysctl -w net.ipv4.ip_forward=1" }) {
            ModnetRuntime.run(processor, null, c);
        }
        for (int i = 0; i < 100; i++) {
            try {
                ModnetRuntime.run(processor, "r", "conntrack -C");
                ModnetRuntime.run(processor, "r", "iptables -t nat -S");
                break;
            } catch (Exception notYet) {
                Thread.sleep(50); // the commands register as their DS components activate
            }
        }
        sockets = ModnetRuntime.service(context, Sockets.class, null);
    }

    /** A modnet bundle's jar, rebuilt: the same classes, a manifest with {@code header: value} added (a different jar). */
    private static Path rebuilt(String bsn, String header, String value) throws Exception {
        Path jar = ModnetRuntime.root().resolve("run-configs/target/repo/" + bsn + "-0.1.0-SNAPSHOT.jar");
        Path out = Files.createTempFile(bsn + "-rebuilt", ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(jar))) {
            Manifest mf = new Manifest(in.getManifest());
            mf.getMainAttributes().putValue(header, value);
            try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(out), mf)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    o.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(o);
                    o.closeEntry();
                }
            }
        }
        assertTrue("a different jar", !Arrays.equals(Files.readAllBytes(jar), Files.readAllBytes(out)));
        return out;
    }

    private static int check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + ": " + SocketCalls.strerror(r));
        }
        return r;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code iptables-save -c}'s rule and policy lines, the date comments left out. */
    private List<String> saved(String table) throws Exception {
        List<String> l = new ArrayList<>();
        for (String s : ModnetRuntime.run(processor, "r", "iptables-save -c -t " + table).split("\n")) {
            if (!s.startsWith("#")) {
                l.add(s.strip());
            }
        }
        return l;
    }

    /** The packets of the rule whose {@code iptables-save -c} line ends with {@code spec}. */
    private static long packets(List<String> saved, String spec) {
        for (String s : saved) {
            if (s.endsWith(spec)) {
                return Long.parseLong(s.substring(1, s.indexOf(':')));
            }
        }
        throw new AssertionError("no rule " + spec + " in " + saved);
    }

    /** The {@code conntrack -L} line of a flow without its seconds left (they go down meanwhile). */
    private static String flow(String listing, String which) {
        for (String line : listing.split("\n")) {
            if (line.contains(which)) {
                String[] w = line.trim().split("\\s+", 4);
                return w[0] + " " + w[1] + " " + w[3];
            }
        }
        throw new AssertionError("no flow " + which + " in " + listing);
    }

    private static String withoutCounters(String line) {
        return line.replaceAll("\\[\\d+:\\d+\\]", "[]");
    }

    @Test
    public void aStreamAndAFlowThroughAMasqueradingStatefulRouterSurviveUpdatesOfNetfilterAndConntrack() throws Exception {
        ModnetRuntime.run(processor, "r", "iptables -P FORWARD DROP");
        ModnetRuntime.run(processor, "r", "iptables -N from-a");
        ModnetRuntime.run(processor, "r", "iptables -A from-a -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -i ra -o rb -m conntrack --ctstate NEW -j from-a");
        ModnetRuntime.run(processor, "r", "iptables -t nat -A POSTROUTING -o rb -j MASQUERADE");
        ModnetRuntime.run(processor, "r", "sysctl -w net.netfilter.nf_conntrack_udp_timeout=77");

        SocketCalls server = sockets.process("nf-server", "b");
        SocketCalls client = sockets.process("nf-client", "a");
        java.util.concurrent.Executor own = r -> Thread.ofPlatform().daemon().start(r);
        // the TCP stream a -> b, through r
        int l = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(server.bind(l, new SockAddr(0, 5010)), "bind");
        check(server.listen(l, 4), "listen");
        int c = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0), "socket");
        check(client.connect(c, new SockAddr(B, 5010)), "connect");
        int s = check(server.accept(l, null, 0), "accept");
        AtomicLong received = new AtomicLong();
        // the stream's FIN waits until the flows are listed after the updates: the entry is compared ESTABLISHED
        java.util.concurrent.CountDownLatch listed = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<byte[]> sent = CompletableFuture.supplyAsync(() -> {
            SplittableRandom random = new SplittableRandom(15);
            MessageDigest d = sha256();
            ByteBuffer chunk = ByteBuffer.allocate(16 << 10);
            for (long left = STREAM_BYTES; left > 0;) {
                chunk.clear();
                int n = (int) Math.min(chunk.capacity(), left);
                for (int i = 0; i < n; i += 8) {
                    chunk.putLong(i, random.nextLong());
                }
                chunk.limit(n);
                d.update(chunk.array(), 0, n);
                left -= n;
                while (chunk.hasRemaining()) {
                    check(client.send(c, chunk, 0), "send");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(500_000); // a stream, not a burst: the updates come mid-way
            }
            try {
                listed.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            check(client.shutdown(c, SocketCalls.SHUT_WR), "shutdown");
            return d.digest();
        }, own);
        CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
            MessageDigest d = sha256();
            ByteBuffer b = ByteBuffer.allocate(16 << 10);
            while (true) {
                b.clear();
                int n = check(server.recv(s, b, 0), "recv");
                if (n == 0) {
                    return d.digest();
                }
                received.addAndGet(n);
                d.update(b.array(), 0, n);
            }
        }, own);
        // the UDP flow a -> b: a datagram every millisecond, each numbered; b counts what arrives
        int us = check(server.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM | SocketCalls.SOCK_NONBLOCK, 0), "socket");
        check(server.bind(us, new SockAddr(0, 5011)), "bind");
        int uc = check(client.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0), "socket");
        check(client.connect(uc, new SockAddr(B, 5011)), "connect");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong datagramsSent = new AtomicLong();
        AtomicLong datagramsGot = new AtomicLong();
        CompletableFuture<Void> flow = CompletableFuture.runAsync(() -> {
            ByteBuffer b = ByteBuffer.allocate(64);
            while (!stop.get()) {
                b.clear();
                b.putLong(0, datagramsSent.get());
                b.limit(64);
                check(client.send(uc, b, 0), "udp send");
                datagramsSent.incrementAndGet();
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
        }, own);
        CompletableFuture<Void> sink = CompletableFuture.runAsync(() -> {
            ByteBuffer b = ByteBuffer.allocate(2048);
            long quiet = 0;
            while (!stop.get() || quiet < 200) {
                b.clear();
                int n = server.recv(us, b, 0);
                if (n > 0) {
                    datagramsGot.incrementAndGet();
                    quiet = 0;
                } else {
                    quiet += stop.get() ? 1 : 0;
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }
        }, own);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (received.get() < STREAM_BYTES / 4) {
            assertTrue("a quarter of the stream through in time: " + received.get(), System.nanoTime() < deadline);
            Thread.sleep(5);
        }
        List<String> filterBefore = saved("filter");
        List<String> natBefore = saved("nat");
        String flowsBefore = ModnetRuntime.run(processor, "r", "conntrack -L");
        assertThat(flowsBefore, containsString("dport=5010 src=10.0.2.2 dst=10.0.2.1 sport=5010"));
        assertThat(flowsBefore, containsString("dport=5011 [UNREPLIED] src=10.0.2.2 dst=10.0.2.1 sport=5011"));
        long adoptedBefore = ModnetRuntime.service(context, StateHolder.class, null).counters().get("HandOverAdopted");

        long t0 = System.nanoTime();
        assertThat(ModnetRuntime.run(processor, "update netfilter " + rebuilt("org.modnet.netfilter", "Modnet-Rebuilt", "nf test")),
                not(containsString("ERROR")));
        long t1 = System.nanoTime();
        Thread.sleep(300);
        assertThat(ModnetRuntime.run(processor, "update conntrack " + rebuilt("org.modnet.conntrack", "Modnet-Rebuilt", "ct test")),
                not(containsString("ERROR")));
        long t2 = System.nanoTime();
        long at = received.get();
        for (int i = 0; i < 100 && ModnetRuntime.runCapturing(processor, "r", "conntrack -C").contains("rror"); i++) {
            Thread.sleep(50); // the new conntrack's command registers as its component activates
        }
        String flowsAfter = ModnetRuntime.run(processor, "r", "conntrack -L");
        listed.countDown();
        List<String> filterAfter = saved("filter");
        List<String> natAfter = saved("nat");

        byte[] digestSent = sent.get(120, TimeUnit.SECONDS);
        byte[] digestGot = got.get(120, TimeUnit.SECONDS);
        stop.set(true);
        flow.get(10, TimeUnit.SECONDS);
        sink.get(10, TimeUnit.SECONDS);
        System.out.printf("NfHandOverIT: update netfilter took %.1f ms, update conntrack %.1f ms; %d of %d stream bytes were through"
                + " at the first update, %d after both; datagrams sent %d, received %d%n", (t1 - t0) / 1e6, (t2 - t1 - 300_000_000L) / 1e6,
                STREAM_BYTES / 4, STREAM_BYTES, at, datagramsSent.get(), datagramsGot.get());
        System.out.println("NfHandOverIT: filter before " + filterBefore + "\nNfHandOverIT: filter after " + filterAfter);

        assertArrayEquals("the stream's SHA-256", digestSent, digestGot);
        assertEquals("every datagram arrived", datagramsSent.get(), datagramsGot.get());
        assertEquals("HandOverAdopted: netfilter's and conntrack's deposits", adoptedBefore + 2,
                (long) ModnetRuntime.service(context, StateHolder.class, null).counters().get("HandOverAdopted"));
        // the same rules, chains and policies, their counters carried over and counting on
        assertEquals(filterBefore.stream().map(NfHandOverIT::withoutCounters).toList(),
                filterAfter.stream().map(NfHandOverIT::withoutCounters).toList());
        assertEquals(natBefore.stream().map(NfHandOverIT::withoutCounters).toList(),
                natAfter.stream().map(NfHandOverIT::withoutCounters).toList());
        String established = "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT";
        assertTrue(packets(filterAfter, established) >= packets(filterBefore, established));
        // an unreplied UDP flow's packets are all NEW, as in Linux: that rule counts on from where it was
        assertTrue(packets(filterAfter, "-j from-a") >= packets(filterBefore, "-j from-a"));
        assertTrue("nothing fell to the DROP policy: " + filterAfter, filterAfter.contains(":FORWARD DROP [0:0]"));
        assertEquals(packets(natBefore, "-A POSTROUTING -o rb -j MASQUERADE"), packets(natAfter, "-A POSTROUTING -o rb -j MASQUERADE"));
        // conntrack lists the same flows with their NAT bindings, and kept its sysctl
        assertEquals("the TCP flow: its tuples, NAT binding, state and status", flow(flowsBefore, "dport=5010 "), flow(flowsAfter, "dport=5010 "));
        assertEquals("the UDP flow", flow(flowsBefore, "dport=5011 "), flow(flowsAfter, "dport=5011 "));
        assertThat(ModnetRuntime.run(processor, "r", "sysctl net.netfilter.nf_conntrack_udp_timeout"), containsString("= 77"));
    }

    /** The object built with clang into itests/target, or the test skips when clang is not installed. */
    private static Path tcCount() throws Exception {
        boolean clang = Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
        assumeTrue("needs clang and libbpf-dev (.ci/run installs them)", clang);
        Path src = ModnetRuntime.root().resolve("bundles/sched/src/test/resources/bpf/tc_count.c");
        Path out = ModnetRuntime.root().resolve("itests/target/tc_count.o");
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + arch + "-linux-gnu", "-c",
                src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals("clang: " + log, 0, p.waitFor());
        return out;
    }

    /** The 8-byte little-endian value {@code bpftool map lookup} prints for key 0 0 0 0. */
    private long slot0(String mapId) throws Exception {
        String out = ModnetRuntime.run(processor, "bpftool map lookup id " + mapId + " key 0 0 0 0");
        String[] b = out.substring(out.indexOf("value:") + 6).trim().split("\\s+");
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | Long.parseLong(b[i], 16);
        }
        return v;
    }

    private String ping() throws Exception {
        return ModnetRuntime.runCapturing(processor, "a", "ping -c 3 -i 0.1 -W 1 10.0.1.1");
    }

    @Test
    public void aTcBpfFilterCountsOnWithTheNewEbpfVersionsProgramAfterAnUpdate() throws Exception {
        Path obj = tcCount();
        ModnetRuntime.run(processor, "r", "tc qdisc add dev ra clsact");
        ModnetRuntime.run(processor, "r", "tc filter add dev ra ingress bpf da obj " + obj + " sec tc");
        assertThat(ping(), containsString("3 received"));
        String shown = ModnetRuntime.run(processor, "r", "tc filter show dev ra ingress");
        String id = shown.substring(shown.indexOf(" id ") + 4).split(" ")[0];
        String mapLine = Arrays.stream(ModnetRuntime.run(processor, "bpftool map show").split("\n"))
                .filter(x -> x.contains("name hits")).findFirst().orElseThrow();
        String mapId = mapLine.substring(0, mapLine.indexOf(':')).trim();
        long before = slot0(mapId);
        assertTrue("the filter counted the pings: " + before, before >= 3);

        assertThat(ModnetRuntime.run(processor, "update ebpf " + rebuilt("org.modnet.ebpf", "Modnet-Rebuilt", "tc test")),
                not(containsString("ERROR")));
        for (int i = 0; i < 100 && !ModnetRuntime.runCapturing(processor, null, "bpftool prog show").contains(" name tc_count "); i++) {
            Thread.sleep(50); // the new implementation's command registers as its component activates
        }
        // the new implementation lists the program under its id: the filter holds it (else it would be unloaded)
        String progs = ModnetRuntime.run(processor, "bpftool prog show");
        assertTrue(progs, Arrays.stream(progs.split("\n")).anyMatch(x -> x.startsWith(id + ": ") && x.contains(" name tc_count ")));
        assertEquals(shown, ModnetRuntime.run(processor, "r", "tc filter show dev ra ingress"));
        assertThat(ping(), containsString("3 received"));
        long after = slot0(mapId);
        assertTrue("counted on in the same map: " + before + " then " + after, after >= before + 3);
        ModnetRuntime.run(processor, "r", "tc filter del dev ra ingress");
        assertThat(ModnetRuntime.run(processor, "bpftool prog show"), not(containsString(" name tc_count ")));
    }

    @Test
    public void anUpdateToAStateVersionItCannotReadIsRefusedAndTheOldVersionsGoOnFiltering() throws Exception {
        ModnetRuntime.run(processor, "r", "iptables -t nat -A POSTROUTING -o rb -j MASQUERADE");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -p icmp -j DROP");
        String ping = "ping -c 2 -i 0.2 -W 1 10.0.2.2";
        assertThat(ModnetRuntime.runCapturing(processor, "a", ping), containsString("2 packets transmitted, 0 received"));
        List<String> before = saved("filter");
        for (String module : new String[] { "netfilter", "conntrack" }) {
            org.osgi.framework.Bundle b = ModnetRuntime.bundleNamed(context, "org.modnet." + module);
            long modified = b.getLastModified();
            String out = ModnetRuntime.runCapturing(processor, null,
                    "update " + module + " " + rebuilt("org.modnet." + module, "Modnet-State-Version", "2"));
            assertThat(out, containsString("update: ERROR: could not update '" + module
                    + "': the new version cannot adopt the running state: it reads state version 2, the running version holds version 1"));
            assertEquals("the old version is running, not replaced", modified, b.getLastModified());
            assertEquals(org.osgi.framework.Bundle.ACTIVE, b.getState());
        }
        assertEquals(before, saved("filter"));
        assertThat(ModnetRuntime.runCapturing(processor, "a", ping), containsString("2 packets transmitted, 0 received"));
        assertEquals(4, packets(saved("filter"), "-A FORWARD -p icmp -j DROP"));
    }

    /** r's {@code /proc/net/ipt_hashlimit/pings}, once its file is registered (the ls of the directory if it never is). */
    private String pings() throws Exception {
        String out = ModnetRuntime.runCapturing(processor, "r", "cat /proc/net/ipt_hashlimit/pings");
        for (int i = 0; i < 100 && out.contains("(failed: "); i++) {
            Thread.sleep(50);
            out = ModnetRuntime.runCapturing(processor, "r", "cat /proc/net/ipt_hashlimit/pings");
        }
        return out + ModnetRuntime.runCapturing(processor, "r", "ls /proc/net/ipt_hashlimit");
    }

    /** Runs {@code line} in r until its command is there (a component activating after an update). */
    private String onceThere(String line) throws Exception {
        String out = ModnetRuntime.runCapturing(processor, "r", line);
        for (int i = 0; i < 100 && out.contains("(failed: "); i++) {
            Thread.sleep(50);
            out = ModnetRuntime.runCapturing(processor, "r", line);
        }
        return out;
    }

    /**
     * An ipset set with elements and timeouts survives {@code update ipset} (the rules that name it use the
     * new version's set, which the new {@code ipset} command changes), and a {@code -m hashlimit} table's
     * buckets survive {@code update netfilter}: a source that spent its burst is still limited after it.
     */
    @Test
    public void ipsetContentsAndHashlimitBucketsSurviveUpdatesOfTheirBundles() throws Exception {
        ModnetRuntime.run(processor, null, "ip -n b route add default via 10.0.2.1");
        ModnetRuntime.run(processor, "r", "ipset create blocked hash:ip timeout 600");
        ModnetRuntime.run(processor, "r", "ipset add blocked 10.0.1.2");
        ModnetRuntime.run(processor, "r", "ipset add blocked 10.0.1.77 timeout 300");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -m set --match-set blocked src -j DROP");
        ModnetRuntime.run(processor, "r", "iptables -A INPUT -p icmp -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 2 "
                + "--hashlimit-mode srcip --hashlimit-name pings -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -A INPUT -p icmp -j DROP");
        assertThat(ModnetRuntime.runCapturing(processor, "a", "ping -c 1 -W 1 10.0.2.2"), containsString("0 received"));
        assertThat(ModnetRuntime.runCapturing(processor, "a", "ping -c 3 -i 0.2 -W 1 10.0.1.1"),
                containsString("3 packets transmitted, 2 received"));
        assertThat("before the updates", pings(), containsString(" 10.0.1.2:0->0.0.0.0:0 "));

        assertThat(ModnetRuntime.run(processor, "update ipset " + rebuilt("org.modnet.ipset", "Modnet-Rebuilt", "ipset test")),
                not(containsString("ERROR")));
        String listed = onceThere("ipset list blocked");
        assertThat(listed, containsString("Header: family inet hashsize 1024 maxelem 65536 timeout 600 bucketsize 12 initval 0x"));
        assertThat(listed, containsString("References: 1"));
        assertTrue(listed, listed.matches("(?s).*\\n10\\.0\\.1\\.2 timeout 5[0-9][0-9]\\n.*"));
        assertTrue(listed, listed.matches("(?s).*\\n10\\.0\\.1\\.77 timeout 2[0-9][0-9]\\n.*"));
        assertThat("the rule still drops what the set holds", ModnetRuntime.runCapturing(processor, "a", "ping -c 1 -W 1 10.0.2.2"),
                containsString("0 received"));
        ModnetRuntime.run(processor, "r", "ipset del blocked 10.0.1.2");
        assertThat("the rule reads the new version's set", ModnetRuntime.runCapturing(processor, "a", "ping -c 1 -W 1 10.0.2.2"),
                containsString("1 packets transmitted, 1 received"));
        assertThat(ModnetRuntime.runCapturing(processor, "r", "ipset destroy blocked"),
                containsString("Set cannot be destroyed: it is in use by a kernel component"));

        assertThat(ModnetRuntime.run(processor, "update netfilter " + rebuilt("org.modnet.netfilter", "Modnet-Rebuilt", "nf test")),
                not(containsString("ERROR")));
        onceThere("iptables -S");
        assertThat("after update netfilter", pings(), containsString(" 10.0.1.2:0->0.0.0.0:0 "));
        assertThat("10.0.1.2's burst is still spent", ModnetRuntime.runCapturing(processor, "a", "ping -c 1 -W 1 10.0.1.1"),
                containsString("0 received"));
        assertThat("b's bucket is a new one, full", ModnetRuntime.runCapturing(processor, "b", "ping -c 1 -W 1 10.0.2.1"),
                containsString("1 packets transmitted, 1 received"));
        assertThat(ModnetRuntime.run(processor, "r", "iptables -S FORWARD"),
                containsString("-A FORWARD -m set --match-set blocked src -j DROP"));
    }
}
