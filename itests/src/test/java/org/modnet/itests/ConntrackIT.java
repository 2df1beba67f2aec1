package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.net.NetCore;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/**
 * Connection tracking and NAT through the shell: a client namespace {@code a}, a router {@code r} and a
 * server {@code b}, joined by veth pairs; the router masquerades a's traffic or filters statefully.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class ConntrackIT {
    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void setUp() throws Exception {
        features.install("full");
        ModnetRuntime.service(context, NetCore.class, null);
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
    }

    private String ping(String ns, String dst) throws Exception {
        return ModnetRuntime.runCapturing(processor, ns, "ping -c 2 -i 0.2 -W 1 " + dst);
    }

    @Test
    public void masqueradeCarriesPingUdpAndTcpAndConntrackListsTheFlows() throws Exception {
        // b has no route back to a's network: only the router's address can reach it
        assertThat(ping("a", "10.0.2.2"), containsString("0 received"));
        ModnetRuntime.run(processor, "r", "conntrack -F");
        ModnetRuntime.run(processor, "r", "iptables -t nat -A POSTROUTING -o rb -j MASQUERADE");
        assertThat(ping("a", "10.0.2.2"), containsString("2 packets transmitted, 2 received"));
        String listed = ModnetRuntime.run(processor, "r", "conntrack -L -p icmp");
        assertThat(listed, containsString("src=10.0.1.2 dst=10.0.2.2 type=8 code=0 id="));
        assertThat(listed, containsString("src=10.0.2.2 dst=10.0.2.1 type=0 code=0 id="));
        assertThat(ModnetRuntime.run(processor, "r", "iptables -t nat -L POSTROUTING -n -v"),
                containsString("MASQUERADE  0    --  *      rb      0.0.0.0/0            0.0.0.0/0"));

        // UDP: the server's own conntrack sees the router's address as the source
        CompletableFuture<String> listener = ModnetRuntime.serve(processor, "b", "nc -u -l -W 1 5002", true, 5002);
        ModnetRuntime.runCapturing(processor, "a", "echo hello | nc -u -q 0.5 10.0.2.2 5002");
        assertThat(listener.get(20, TimeUnit.SECONDS), containsString("hello"));
        assertThat(ModnetRuntime.run(processor, "b", "conntrack -L -p udp"),
                containsString("src=10.0.2.1 dst=10.0.2.2 sport="));
        assertThat(ModnetRuntime.run(processor, "r", "conntrack -L -p udp -s 10.0.1.2"),
                containsString("udp      17 "));
        assertThat(ModnetRuntime.run(processor, "r", "conntrack -L -p udp -s 10.0.1.2 -w 0"),
                containsString("udp      17 "));
        assertThat(ModnetRuntime.run(processor, "r", "conntrack -L -p udp -s 10.0.1.2 -w 3"),
                not(containsString("udp      17 ")));
        assertThat(ModnetRuntime.run(processor, "r", "cat /proc/net/nf_conntrack"),
                containsString("ipv4     2 udp      17 "));

        // TCP: a connection made and closed through the router, tracked and assured there
        CompletableFuture<String> tcp = ModnetRuntime.serve(processor, "b", "nc -l 5998", false, 5998);
        assertThat(ModnetRuntime.runCapturing(processor, "a", "nc -z -v -w 5 10.0.2.2 5998"),
                containsString("succeeded!"));
        tcp.get(20, TimeUnit.SECONDS);
        String tcpListed = ModnetRuntime.run(processor, "r", "conntrack -L -p tcp");
        assertThat(tcpListed, containsString("src=10.0.1.2 dst=10.0.2.2 sport="));
        assertThat(tcpListed, containsString("dport=5998 src=10.0.2.2 dst=10.0.2.1 sport=5998"));
        assertThat(tcpListed, containsString("[ASSURED] mark=0 use=1"));
        assertThat(ModnetRuntime.run(processor, "r", "sysctl net.netfilter.nf_conntrack_count"),
                not(containsString("= 0")));

        // the masquerade address goes: its flows go with it
        ModnetRuntime.run(processor, null, "ip -n r addr del 10.0.2.1/24 dev rb");
        long deadline = System.nanoTime() + 10_000_000_000L;
        String after = ModnetRuntime.run(processor, "r", "conntrack -L");
        while (after.contains("dst=10.0.2.1") && System.nanoTime() < deadline) {
            Thread.sleep(100);
            after = ModnetRuntime.run(processor, "r", "conntrack -L");
        }
        assertThat(after, not(containsString("dst=10.0.2.1")));
    }

    /** A counter of {@code nstat -az} in a namespace, 0 when it is not shown. */
    private long nstat(String ns, String name) throws Exception {
        for (String line : ModnetRuntime.run(processor, ns, "nstat -az").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(name)) {
                return Long.parseLong(f[1]);
            }
        }
        return 0;
    }

    @Test
    public void icmpErrorsFromBehindTheNatReachTheClientTranslated() throws Exception {
        ModnetRuntime.run(processor, "r", "iptables -t nat -A POSTROUTING -o rb -j MASQUERADE");
        long before = nstat("a", "IcmpInDestUnreachs");
        // nothing listens on b's port 5003: b answers the router's address, which passes it on to a
        ModnetRuntime.runCapturing(processor, "a", "echo x | nc -u -q 0.5 10.0.2.2 5003");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (nstat("a", "IcmpInDestUnreachs") <= before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        org.junit.Assert.assertTrue("a got b's port unreachable, translated", nstat("a", "IcmpInDestUnreachs") > before);
        org.junit.Assert.assertEquals(0L, nstat("a", "IcmpInCsumErrors"));
    }

    /**
     * nat OUTPUT on the host that sends: REDIRECT turns a's own connection to b's port 80 into one to a's
     * local listener, and DNAT turns its datagrams to b's port 7 into ones to its own 127.0.0.1:5000. Each
     * packet is routed again after the nat table changed its destination (ip_route_me_harder): to lo, not
     * out a0 toward the router.
     */
    @Test
    public void outputRedirectAndDnatRouteTheHostsOwnPacketsAgain() throws Exception {
        ModnetRuntime.run(processor, null, "ip -n a link set lo up"); // 127.0.0.1 is routed only while lo is up, as in Linux
        ModnetRuntime.run(processor, "a", "iptables -t nat -A OUTPUT -p tcp -d 10.0.2.2 --dport 80 -j REDIRECT --to-ports 3128");
        CompletableFuture<String> proxy = ModnetRuntime.serve(processor, "a", "nc -l 3128", false, 3128);
        assertThat(ModnetRuntime.runCapturing(processor, "a", "nc -z -v -w 5 10.0.2.2 80"),
                containsString("Connection to 10.0.2.2 80 port [tcp/"));
        proxy.get(20, TimeUnit.SECONDS);
        assertThat(ModnetRuntime.run(processor, "a", "conntrack -L -p tcp"),
                containsString("dst=10.0.2.2 sport="));
        assertThat(ModnetRuntime.run(processor, "a", "conntrack -L -p tcp"),
                containsString(" dport=80 src=127.0.0.1 dst=10.0.1.2 sport=3128 "));

        ModnetRuntime.run(processor, "a", "iptables -t nat -A OUTPUT -p udp -d 10.0.2.2 --dport 7 -j DNAT --to-destination 127.0.0.1:5000");
        CompletableFuture<String> udp = ModnetRuntime.serve(processor, "a", "nc -u -l -W 1 -s 127.0.0.1 5000", true, 5000);
        ModnetRuntime.run(processor, "a", "echo hello | nc -u -q 0.5 10.0.2.2 7");
        assertThat(udp.get(20, TimeUnit.SECONDS), containsString("hello"));
    }

    @Test
    public void dnatForwardsAPortOfTheRouterToTheServerBehindIt() throws Exception {
        ModnetRuntime.run(processor, null, "ip -n b route add default via 10.0.2.1");
        ModnetRuntime.run(processor, "r", "iptables -t nat -A PREROUTING -i ra -p tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:5998");
        CompletableFuture<String> tcp = ModnetRuntime.serve(processor, "b", "nc -l 5998", false, 5998);
        assertThat(ModnetRuntime.runCapturing(processor, "a", "nc -z -v -w 5 10.0.1.1 8080"),
                containsString("Connection to 10.0.1.1 8080 port [tcp/*] succeeded!"));
        tcp.get(20, TimeUnit.SECONDS);
        assertThat(ModnetRuntime.run(processor, "r", "conntrack -L -p tcp --dport 8080"),
                containsString("dport=8080 src=10.0.2.2 dst=10.0.1.2 sport=5998"));
        assertThat(ModnetRuntime.run(processor, "r", "iptables -t nat -L PREROUTING -n -v"),
                containsString("    1    60 DNAT       6    --  ra     *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:10.0.2.2:5998"));
    }

    @Test
    public void statefulForwardingLetsRepliesInAndRefusesNewInbound() throws Exception {
        ModnetRuntime.run(processor, null, "ip -n b route add default via 10.0.2.1");
        ModnetRuntime.run(processor, "r", "iptables -P FORWARD DROP");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -i ra -o rb -j ACCEPT");
        assertThat(ping("a", "10.0.2.2"), containsString("2 packets transmitted, 2 received"));
        assertThat(ping("b", "10.0.1.2"), containsString("2 packets transmitted, 0 received"));
        String listed = ModnetRuntime.run(processor, "r", "iptables -L FORWARD -n -v -x");
        // the first request is NEW (rule 2); the second request and both replies belong to the flow (rule 1)
        assertThat(listed, containsString("       3      252 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED"));
        assertThat(listed, containsString("       1       84 ACCEPT     0    --  ra     rb      0.0.0.0/0            0.0.0.0/0"));
        assertThat(listed, containsString("Chain FORWARD (policy DROP 2 packets, 168 bytes)"));
        assertThat(ModnetRuntime.run(processor, "r", "conntrack -L"), containsString("src=10.0.1.2 dst=10.0.2.2 type=8 code=0"));
    }

    /**
     * Standard input that gives nothing until {@link #open} is called, then {@code data} once, then its end:
     * b's {@code nc -u -l} answers only after a's request has connected it to a.
     */
    private static final class Gate extends java.io.InputStream {
        private final java.util.concurrent.CountDownLatch latch = new java.util.concurrent.CountDownLatch(1);
        private final byte[] data;
        private boolean given;

        Gate(byte[] data) {
            this.data = data;
        }

        void open() {
            latch.countDown();
        }

        @Override
        public int read() throws java.io.IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws java.io.IOException {
            try {
                latch.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            if (given) {
                return -1;
            }
            given = true;
            System.arraycopy(data, 0, b, off, data.length); // nc reads 16 KiB at a time
            return data.length;
        }
    }

    /**
     * nf_defrag_ipv4 (issue 18): behind a stateful, masquerading router a UDP request gets a 4000-byte
     * reply, which its sender cuts into three fragments at MTU 1500. The router gathers them before
     * conntrack, so the reply is ESTABLISHED, translated back to a and let through FORWARD whole, then cut
     * again to the sizes it came in: a's capture shows the fragments, a's nc the whole reply. Before,
     * the fragments were untracked, dropped by the policy, and never reached a. {@code -f} matches none.
     */
    @Test
    public void aFragmentedUdpReplyCrossesAStatefulMasqueradingRouterWholeAndLeavesFragmentedAgain() throws Exception {
        ModnetRuntime.run(processor, "r", "iptables -P FORWARD DROP");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -i ra -o rb -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -I FORWARD 1 -f -j DROP");
        ModnetRuntime.run(processor, "r", "iptables -t nat -A POSTROUTING -o rb -j MASQUERADE");

        byte[] reply = new byte[4000];
        java.util.Arrays.fill(reply, (byte) 'R');
        reply[3999] = '\n';
        Gate gate = new Gate(reply);
        java.io.ByteArrayOutputStream served = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(served, true, java.nio.charset.StandardCharsets.UTF_8);
        org.apache.felix.service.command.CommandSession session = processor.createSession(gate, out, out);
        session.put(org.modnet.api.shell.Commands.NETNS, "b");
        Thread server = Thread.ofPlatform().daemon().start(() -> {
            try {
                session.execute("nc -u -l -q 1 5002");
            } catch (Exception e) {
                out.println(e);
            }
        });
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ModnetRuntime.run(processor, "b", "ss -u -a -n").contains(":5002 ") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        CompletableFuture<String> capture = ModnetRuntime.capture(context, processor, "a",
                "tcpdump -i a0 -n -v -c 3 src host 10.0.2.2");
        CompletableFuture<String> client = CompletableFuture.supplyAsync(() -> {
            try {
                return ModnetRuntime.runCapturing(processor, "a", "echo hello | nc -u -q 3 10.0.2.2 5002");
            } catch (Exception e) {
                return e.toString();
            }
        }, r -> Thread.ofPlatform().daemon().start(r));
        deadline = System.nanoTime() + 10_000_000_000L;
        while (!served.toString(java.nio.charset.StandardCharsets.UTF_8).contains("hello") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(served.toString(java.nio.charset.StandardCharsets.UTF_8), containsString("hello"));
        gate.open(); // b answers the request's sender: the router's address

        String got = client.get(20, TimeUnit.SECONDS);
        assertThat("the whole 4000-byte reply reached a", got, containsString(new String(reply, 0, 3999, java.nio.charset.StandardCharsets.US_ASCII)));
        String seen = capture.get(20, TimeUnit.SECONDS);
        assertThat(seen, containsString("offset 0, flags [+], proto UDP (17), length 1500)"));
        assertThat(seen, containsString("offset 1480, flags [+], proto UDP (17), length 1500)"));
        assertThat(seen, containsString("offset 2960, flags [none], proto UDP (17), length 1068)"));
        server.join(10_000);
        session.close();

        assertThat(nstat("r", "IpReasmOKs"), org.hamcrest.CoreMatchers.is(1L));
        assertThat(nstat("r", "IpReasmReqds"), org.hamcrest.CoreMatchers.is(3L));
        assertThat(nstat("r", "IpFragCreates"), org.hamcrest.CoreMatchers.is(3L));
        assertThat(ModnetRuntime.run(processor, "r", "conntrack -L -p udp"), containsString("dport=5002 src=10.0.2.2 dst=10.0.2.1 sport=5002"));
        String rules = ModnetRuntime.run(processor, "r", "iptables -L FORWARD -n -v -x");
        for (String line : rules.split("\n")) {
            if (line.contains(" -f ")) {
                assertThat("with conntrack no fragment reaches the filter table: " + line, line.trim(), org.hamcrest.CoreMatchers.startsWith("0 "));
            }
        }
        assertThat(rules, containsString("-f "));
    }

    /** A {@code conntrack -E} running in r's namespace in its own session, until {@link #ctrlC}. */
    private record Watch(org.apache.felix.service.command.CommandSession session, Thread thread,
            java.io.ByteArrayOutputStream bytes, java.util.concurrent.atomic.AtomicReference<Object> ended) {
        String text() {
            return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private Watch watch(String line) throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        org.apache.felix.service.command.CommandSession session = processor.createSession(java.io.InputStream.nullInputStream(), out, out);
        session.put(org.modnet.api.shell.Commands.NETNS, "r");
        java.util.concurrent.atomic.AtomicReference<Object> ended = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                ended.set(session.execute(line));
            } catch (Exception e) {
                ended.set(e);
            }
        });
        t.start();
        Thread.sleep(300); // the command starts listening
        return new Watch(session, t, bytes, ended);
    }

    /** Ctrl-C: the job's interrupt; the command prints its summary and ends. */
    private String ctrlC(Watch w, String until) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!w.text().contains(until) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(200); // what came has been printed
        w.session().foregroundJob().interrupt();
        w.thread().join(10_000);
        org.junit.Assert.assertFalse("Ctrl-C ended it", w.thread().isAlive());
        w.session().close();
        org.junit.Assert.assertTrue("no error but Ctrl-C's: " + w.ended().get(),
                w.ended().get() == null || w.ended().get() instanceof InterruptedException);
        return w.text();
    }

    /**
     * {@code conntrack -E} through the shell on the router: a UDP flow's and a TCP connection's events as
     * conntrack prints them ({@code [NEW]}, {@code [UPDATE]} to ESTABLISHED and {@code [ASSURED]},
     * {@code [DESTROY]} when {@code conntrack -F} empties the table), {@code -e NEW} showing only the new
     * flows, each ended by Ctrl-C with conntrack's summary line.
     */
    @Test
    public void conntrackEventsShowTheFlowsLivesUntilCtrlC() throws Exception {
        ModnetRuntime.run(processor, null, "ip -n b route add default via 10.0.2.1");
        ModnetRuntime.run(processor, "r", "conntrack -F");
        Watch all = watch("conntrack -E");
        Watch onlyNew = watch("conntrack -E -e NEW");

        ModnetRuntime.runCapturing(processor, "a", "echo hello | nc -u -q 0.5 10.0.2.2 5002");
        CompletableFuture<String> tcp = ModnetRuntime.serve(processor, "b", "nc -l 5998", false, 5998);
        assertThat(ModnetRuntime.runCapturing(processor, "a", "nc -z -v -w 5 10.0.2.2 5998"), containsString("succeeded!"));
        tcp.get(20, TimeUnit.SECONDS);
        // the connection's last segments pass before the flush: a late one would be picked up mid-stream
        // as a new ESTABLISHED entry (nf_conntrack_tcp_loose), as Linux does
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ModnetRuntime.run(processor, "r", "conntrack -L -p tcp").contains("TIME_WAIT") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        ModnetRuntime.run(processor, "r", "conntrack -F");

        String events = ctrlC(all, "[DESTROY] tcp");
        // the seconds left as the event happened: the timeout, or a second less on a slow machine
        String udpNew = "(?m)^    \\[NEW\\] udp      17 (30|29) src=10\\.0\\.1\\.2 dst=10\\.0\\.2\\.2 sport=\\d+ dport=5002 \\[UNREPLIED\\] "
                + "src=10\\.0\\.2\\.2 dst=10\\.0\\.1\\.2 sport=5002 dport=\\d+$";
        String tcpNew = "(?m)^    \\[NEW\\] tcp      6 (120|119) SYN_SENT src=10\\.0\\.1\\.2 dst=10\\.0\\.2\\.2 sport=\\d+ dport=5998 \\[UNREPLIED\\] ";
        assertFound(events, udpNew);
        assertFound(events, "(?m)^\\[DESTROY\\] udp      17 \\d+ src=10\\.0\\.1\\.2 dst=10\\.0\\.2\\.2 sport=\\d+ dport=5002 \\[UNREPLIED\\] ");
        assertFound(events, tcpNew);
        assertFound(events, "(?m)^ \\[UPDATE\\] tcp      6 (60|59) SYN_RECV src=10\\.0\\.1\\.2 dst=10\\.0\\.2\\.2 sport=\\d+ dport=5998 src=");
        assertFound(events, "(?m)^ \\[UPDATE\\] tcp      6 \\d+ ESTABLISHED src=10\\.0\\.1\\.2 dst=10\\.0\\.2\\.2 sport=\\d+ dport=5998 "
                + "src=10\\.0\\.2\\.2 dst=10\\.0\\.1\\.2 sport=5998 dport=\\d+ \\[ASSURED\\]$");
        assertFound(events, "(?m)^ \\[UPDATE\\] tcp      6 \\d+ TIME_WAIT src=10\\.0\\.1\\.2 .* \\[ASSURED\\]$");
        assertFound(events, "(?m)^\\[DESTROY\\] tcp      6 \\d+ TIME_WAIT src=10\\.0\\.1\\.2 ");
        // conntrack's summary line after Ctrl-C does not reach the session's output here (ConntrackEventsTest checks it)

        String news = ctrlC(onlyNew, "[NEW] tcp");
        assertFound(news, udpNew);
        assertFound(news, tcpNew);
        assertThat(news, not(containsString("[UPDATE]")));
        assertThat(news, not(containsString("[DESTROY]")));
    }

    private static void assertFound(String text, String regex) {
        org.junit.Assert.assertTrue(regex + " in:\n" + text, java.util.regex.Pattern.compile(regex).matcher(text).find());
    }
}
