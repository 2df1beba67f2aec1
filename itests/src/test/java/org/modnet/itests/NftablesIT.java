package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * nft through the shell: a stateful inet filter input chain between two namespaces joined by a veth
 * pair; and a ruleset with a verdict map, a concatenation, a limit and counters that filters and counts
 * on across a live update of the nftables bundle under a ping flood, and across an update of IPv4.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class NftablesIT {
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
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.netfilter.NfHookFunction.class, null);
        ModnetRuntime.vethPair(context, core);
        for (int i = 0; i < 100; i++) {
            try {
                ModnetRuntime.run(processor, "ns2", "nft list ruleset");
                ModnetRuntime.run(processor, "ns2", "conntrack -C");
                break;
            } catch (Exception notYet) {
                Thread.sleep(50); // the commands register as their DS components activate
            }
        }
        ModnetRuntime.run(processor, "ns1", "ping -c 1 10.0.0.2"); // ARP resolved first
    }

    private String ping(String ns, String dst) throws Exception {
        return ModnetRuntime.runCapturing(processor, ns, "ping -c 2 -i 0.2 -W 1 " + dst);
    }

    @Test
    public void statefulInputChainRefusesPingsAllowsItsTcpPortAndLetsRepliesIn() throws Exception {
        Path file = Files.createTempFile("nftables-it", ".nft");
        Files.writeString(file, """
                add table inet filter
                add chain inet filter input { type filter hook input priority 0; policy drop; }
                add rule inet filter input ct state established,related counter accept
                add rule inet filter input tcp dport 5999 counter accept
                add rule inet filter input icmp type echo-request counter drop
                """);
        try {
            ModnetRuntime.run(processor, "ns2", "nft -f " + file);
        } finally {
            Files.deleteIfExists(file);
        }
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 0 received"));
        assertThat(ModnetRuntime.run(processor, "ns2", "nft list chain inet filter input"),
                containsString("\t\ticmp type echo-request counter packets 2 bytes 168 drop\n"));

        CompletableFuture<String> listener = ModnetRuntime.serve(processor, "ns2", "nc -l 5999", false, 5999);
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v -w 5 10.0.0.2 5999"),
                containsString("Connection to 10.0.0.2 5999 port [tcp/*] succeeded!"));
        listener.get(20, TimeUnit.SECONDS);
        String listed = ModnetRuntime.run(processor, "ns2", "nft list ruleset");
        assertThat(listed, containsString("\t\ttcp dport 5999 counter packets 1 bytes 60 accept\n"));
        assertThat(listed, not(containsString("ct state established,related counter packets 0 bytes 0 accept")));

        // ns2's own pings go out and their replies come back in as established
        assertThat(ping("ns2", "10.0.0.1"), containsString("2 packets transmitted, 2 received"));
        // a port no rule allows is dropped by the policy
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v -w 1 10.0.0.2 6000"), not(containsString("succeeded")));

        // reject with tcp reset refuses a connection at once; a chain at priority raw runs before conntrack
        ModnetRuntime.run(processor, "ns2", "nft insert rule inet filter input tcp dport 6001 reject with tcp reset");
        long start = System.nanoTime();
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v -w 5 10.0.0.2 6001"),
                containsString("nc: connect to 10.0.0.2 port 6001 (tcp) failed: Connection refused"));
        assertThat("refused by the RST, not a timeout", (System.nanoTime() - start) / 1_000_000 < 4000);

        // braces and semicolons go through the shell quoted, as in a Linux shell
        ModnetRuntime.run(processor, "ns2", "nft 'add chain inet filter out { type filter hook output priority 0; policy accept; }'");
        ModnetRuntime.run(processor, "ns2", "nft 'add rule inet filter out udp dport { 7, 9 } counter drop'");
        String handles = ModnetRuntime.run(processor, "ns2", "nft -a list chain inet filter out");
        assertThat(handles, containsString("\t\ttype filter hook output priority filter; policy accept;\n"));
        assertThat(handles, containsString("\t\tudp dport { 7, 9 } counter packets 0 bytes 0 drop # handle "));

        ModnetRuntime.run(processor, "ns2", "nft flush ruleset");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 received"));
    }

    private long ipInReceives(String ns) throws Exception {
        for (String line : ModnetRuntime.run(processor, ns, "nstat -az").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals("IpInReceives")) {
                return Long.parseLong(f[1]);
            }
        }
        throw new AssertionError("no IpInReceives in nstat -az");
    }

    @Test
    public void netdevIngressChainDropsBeforeIpv4SeesTheFrameAndCountsIt() throws Exception {
        ModnetRuntime.run(processor, "ns2", "nft add table netdev T");
        ModnetRuntime.run(processor, "ns2", "nft 'add chain netdev T C { type filter hook ingress device veth1 priority 0; }'");
        ModnetRuntime.run(processor, "ns2", "nft add rule netdev T C ip saddr 10.0.0.1 icmp type echo-request counter drop");
        long before = ipInReceives("ns2");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 0 received"));
        assertThat(ModnetRuntime.run(processor, "ns2", "nft list ruleset"), containsString("""
                table netdev T {
                	chain C {
                		type filter hook ingress device "veth1" priority filter; policy accept;
                		ip saddr 10.0.0.1 icmp type echo-request counter packets 2 bytes 168 drop
                	}
                }"""));
        assertEquals("IPv4 never saw the dropped requests", before, ipInReceives("ns2"));

        ModnetRuntime.run(processor, "ns2", "nft delete table netdev T");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 2 received"));
    }

    @Test
    public void aSetThePacketPathFillsTimesOutAndTheCoresTimerFreesItsPlace() throws Exception {
        ModnetRuntime.run(processor, "ns2", "nft add table ip t");
        ModnetRuntime.run(processor, "ns2", "nft 'add set ip t seen { type ipv4_addr; size 1; flags timeout; gc-interval 1s; }'");
        ModnetRuntime.run(processor, "ns2", "nft 'add chain ip t input { type filter hook input priority 0; }'");
        ModnetRuntime.run(processor, "ns2", "nft add rule ip t input icmp type echo-request update @seen '{ ip saddr timeout 1s }' counter");
        ModnetRuntime.run(processor, "ns2", "nft add rule ip t input ct status seen-reply icmp type echo-request counter");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 2 received"));
        String listed = ModnetRuntime.run(processor, "ns2", "nft list ruleset");
        assertThat(listed, containsString("elements = { 10.0.0.1 timeout 1s expires "));
        assertThat("the second request's flow has seen a reply", listed,
                containsString("ct status seen-reply icmp type echo-request counter packets 1 bytes 84"));
        // the set holds one: another element gets in only once the collector, on the core's wheel, has freed
        // 10.0.0.1's place (an expired element keeps it until then, as nelems counts it in Linux)
        String added = "";
        for (int i = 0; i < 60; i++) {
            Thread.sleep(100);
            added = ModnetRuntime.runCapturing(processor, "ns2", "nft add element ip t seen '{ 10.0.0.9 timeout 1m }'");
            if (!added.contains("No space left on device")) {
                break;
            }
        }
        assertThat(ModnetRuntime.run(processor, "ns2", "nft list set ip t seen"), containsString("elements = { 10.0.0.9 timeout 1m expires "));
    }

    @Test
    public void ctZoneFromIptablesOrNftPutsTheFlowInItsZone() throws Exception {
        ModnetRuntime.run(processor, "ns2", "iptables -t raw -A PREROUTING -p icmp -j CT --zone 5");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 received"));
        String listed = ModnetRuntime.run(processor, "ns2", "conntrack -L -p icmp");
        assertThat(listed, containsString("src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id="));
        assertThat(listed, containsString(" mark=0 zone=5 use=1\n"));
        assertThat(ModnetRuntime.run(processor, "ns2", "cat /proc/net/nf_conntrack"), containsString(" zone=5 use=2"));

        ModnetRuntime.run(processor, "ns2", "iptables -t raw -F");
        ModnetRuntime.run(processor, "ns2", "conntrack -F");
        ModnetRuntime.run(processor, "ns2", "nft 'add table ip raw; add chain ip raw pre { type filter hook prerouting priority raw; }'");
        ModnetRuntime.run(processor, "ns2", "nft add rule ip raw pre ct zone set 9");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 received"));
        assertThat(ModnetRuntime.run(processor, "ns2", "conntrack -L -p icmp"), containsString(" mark=0 zone=9 use=1\n"));
    }

    @Test
    public void nfqueueHoldsPacketsUntilItsConsumerAcceptsThem() throws Exception {
        ModnetRuntime.run(processor, "ns2", "iptables -A INPUT -p icmp -j NFQUEUE --queue-num 3");
        assertThat("no consumer: dropped", ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 0 received"));

        CompletableFuture<String> consumer = nfqueueConsumer("-c 2 -t 20");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 2 received"));
        String judged = consumer.get(30, TimeUnit.SECONDS);
        assertThat(judged, containsString("id=1 hook=INPUT IN=veth1 OUT= "));
        assertThat(judged, containsString(" SRC=10.0.0.1 DST=10.0.0.2 "));
        assertThat(judged, containsString(" ACCEPT\n"));
        assertThat(judged, containsString("2 packets judged on queue 3"));

        ModnetRuntime.run(processor, "ns2", "iptables -R INPUT 1 -p icmp -j NFQUEUE --queue-num 3 --queue-bypass");
        assertThat("bypass: through without a consumer", ping("ns1", "10.0.0.2"), containsString("2 received"));
        assertThat(ModnetRuntime.run(processor, "ns2", "iptables -S INPUT"),
                containsString("-A INPUT -p icmp -j NFQUEUE --queue-num 3 --queue-bypass"));

        // a later hook function (an nft chain after the filter table) drops the echoes: ACCEPT goes on into it,
        // NF_STOP skips it
        ModnetRuntime.run(processor, "ns2", "iptables -R INPUT 1 -p icmp -j NFQUEUE --queue-num 3");
        ModnetRuntime.run(processor, "ns2", "nft add table ip late");
        ModnetRuntime.run(processor, "ns2", "nft add chain ip late in '{ type filter hook input priority 10; }'");
        ModnetRuntime.run(processor, "ns2", "nft add rule ip late in icmp type echo-request drop");
        assertThat("accepted from the queue, dropped by the later chain", pingThroughQueue("--accept"),
                containsString("2 packets transmitted, 0 received"));
        assertThat("stopped: the later chain is skipped", pingThroughQueue("--stop"),
                containsString("2 packets transmitted, 2 received"));
        ModnetRuntime.run(processor, "ns2", "nft delete table ip late");
    }

    /**
     * {@code nfqueue -q 3 ARGS} in ns2 on its own thread, returned once {@code
     * /proc/net/netfilter/nfnetlink_queue} lists queue 3 bound (20 s at most); its output.
     */
    private CompletableFuture<String> nfqueueConsumer(String args) throws Exception {
        CompletableFuture<String> consumer = CompletableFuture.supplyAsync(() -> {
            try {
                return ModnetRuntime.runCapturing(processor, "ns2", "nfqueue -q 3 " + args);
            } catch (Exception e) {
                return e.toString();
            }
        });
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!ModnetRuntime.run(processor, "ns2", "cat /proc/net/netfilter/nfnetlink_queue").startsWith("    3 ")
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return consumer;
    }

    /** Two pings from ns1 while {@code nfqueue -q 3 VERDICT -c 2} judges them in ns2; ping's output. */
    private String pingThroughQueue(String verdict) throws Exception {
        CompletableFuture<String> consumer = nfqueueConsumer(verdict + " -c 2 -t 20");
        String out = ping("ns1", "10.0.0.2");
        assertThat(consumer.get(30, TimeUnit.SECONDS), containsString("2 packets judged on queue 3"));
        return out;
    }

    /** A modnet bundle's jar, rebuilt: the same classes, a manifest with {@code header: value} added (a different jar). */
    private static Path rebuilt(String bsn, String header, String value) throws Exception {
        Path jar = ModnetRuntime.root().resolve("run-configs/target/repo/" + bsn + "-0.1.0-SNAPSHOT.jar");
        Path out = Files.createTempFile(bsn + "-rebuilt", ".jar");
        try (java.util.jar.JarInputStream in = new java.util.jar.JarInputStream(Files.newInputStream(jar))) {
            java.util.jar.Manifest mf = new java.util.jar.Manifest(in.getManifest());
            mf.getMainAttributes().putValue(header, value);
            try (java.util.jar.JarOutputStream o = new java.util.jar.JarOutputStream(Files.newOutputStream(out), mf)) {
                for (java.util.jar.JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    o.putNextEntry(new java.util.jar.JarEntry(e.getName()));
                    in.transferTo(o);
                    o.closeEntry();
                }
            }
        }
        return out;
    }

    /** The packets of the rule of {@code listing} that contains {@code rule}. */
    private static long packets(String listing, String rule) {
        for (String l : listing.split("\n")) {
            if (l.contains(rule)) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("counter packets (\\d+)").matcher(l);
                if (m.find()) {
                    return Long.parseLong(m.group(1));
                }
            }
        }
        throw new AssertionError("no rule " + rule + " in " + listing);
    }

    private static String withoutCounters(String listing) {
        return listing.replaceAll("counter packets \\d+ bytes \\d+", "counter");
    }

    @Test
    public void theRulesetFiltersAndCountsOnAcrossUpdatesOfNftablesUnderPingsAndOfIpv4() throws Exception {
        Path file = Files.createTempFile("nftables-it", ".nft");
        Files.writeString(file, """
                add table ip filter
                add chain ip filter input { type filter hook input priority 0; policy drop; }
                add chain ip filter pings
                add map ip filter protos { type inet_proto : verdict; elements = { icmp : jump pings } }
                add rule ip filter input meta l4proto vmap @protos
                add rule ip filter input ip saddr . tcp dport { 10.0.0.1 . 5999 } counter accept
                add rule ip filter input udp dport 9 counter drop
                add rule ip filter pings icmp type echo-request limit rate 100000/second burst 100000 packets counter accept
                add rule ip filter pings counter drop
                """);
        try {
            ModnetRuntime.run(processor, "ns2", "nft -f " + file);
        } finally {
            Files.deleteIfExists(file);
        }
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 2 received"));
        String before = ModnetRuntime.run(processor, "ns2", "nft -a list ruleset");
        long pingsBefore = packets(before, "icmp type echo-request");
        org.modnet.api.handover.StateHolder holder = ModnetRuntime.service(context, org.modnet.api.handover.StateHolder.class, null);
        long adopted = holder.counters().get("HandOverAdopted");

        // 300 pings 10 ms apart: policy drop, so a ping lost while the rules change hands is a packet that saw no rule or half of them
        CompletableFuture<String> flood = CompletableFuture.supplyAsync(() -> {
            try {
                return ModnetRuntime.runCapturing(processor, "ns1", "ping -c 300 -i 0.01 -W 2 10.0.0.2");
            } catch (Exception e) {
                return e.toString();
            }
        });
        Thread.sleep(1000);
        long t0 = System.nanoTime();
        assertThat(ModnetRuntime.run(processor, "update nftables " + rebuilt("org.modnet.nftables", "Modnet-Rebuilt", "nft test")),
                not(containsString("ERROR")));
        long t1 = System.nanoTime();
        String pinged = flood.get(30, TimeUnit.SECONDS);
        for (int i = 0; i < 100 && ModnetRuntime.runCapturing(processor, "ns2", "nft list ruleset").contains("rror"); i++) {
            Thread.sleep(50); // the new version's command registers as its component activates
        }
        String after = ModnetRuntime.run(processor, "ns2", "nft -a list ruleset");
        System.out.printf("NftablesIT: update nftables took %.1f ms under pings: %s%n", (t1 - t0) / 1e6,
                pinged.lines().filter(l -> l.contains("transmitted")).findFirst().orElse(pinged));
        assertThat("every ping answered; the counters say which rule took any that was not:\n" + after, pinged,
                containsString("300 packets transmitted, 300 received"));
        assertEquals("the ruleset adopted", adopted + 1, (long) holder.counters().get("HandOverAdopted"));
        assertEquals("the same ruleset with the same handles", withoutCounters(before), withoutCounters(after));
        assertTrue("the counter counted on from where it was: " + after, packets(after, "icmp type echo-request") >= pingsBefore + 250);

        // the new version filters: the policy drops what no rule accepts, the vmap still jumps, new rules get the next handle
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v -w 1 10.0.0.2 6000"), not(containsString("succeeded")));
        ModnetRuntime.run(processor, "ns2", "nft add rule ip filter pings icmp type echo-reply accept");
        assertThat(ModnetRuntime.run(processor, "ns2", "nft -a list chain ip filter pings"),
                containsString("icmp type echo-reply accept # handle 10\n"));

        // an update of IPv4 keeps the hooks' functions: the rules go on filtering and counting
        long pingsMid = packets(after, "icmp type echo-request");
        assertThat(ModnetRuntime.run(processor, "update ipv4 " + rebuilt("org.modnet.ipv4", "Modnet-Rebuilt", "nft test")),
                not(containsString("ERROR")));
        String p2 = "";
        for (int i = 0; i < 100 && !(p2 = ping("ns1", "10.0.0.2")).contains("2 received"); i++) {
            Thread.sleep(50); // the new IPv4's ping command registers as its component activates
        }
        assertThat(p2, containsString("2 packets transmitted, 2 received"));
        String last = ModnetRuntime.run(processor, "ns2", "nft -a list ruleset");
        assertTrue(last, packets(last, "icmp type echo-request") >= pingsMid + 2);
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v -w 1 10.0.0.2 6000"), not(containsString("succeeded")));
    }
    /**
     * {@code nft list ruleset | nft -f -} carries a ruleset (sets with elements, a verdict map, a nat chain,
     * counters) to another namespace and reads back as the same listing; a listing saved to a file reads back
     * after {@code flush ruleset} too. The pipe's two sides run at once, one under {@code ip netns exec}.
     */
    @Test
    public void aListedRulesetRoundTripsThroughAPipeAndAFile() throws Exception {
        for (String c : new String[] { "nft add table inet filter",
                "nft 'add chain inet filter input { type filter hook input priority 0; policy drop; }'",
                "nft 'add set inet filter bad { type ipv4_addr; flags interval; }'",
                "nft 'add element inet filter bad { 192.0.2.0/24, 198.51.100.7 }'",
                "nft 'add map inet filter ports { type inet_service : verdict; elements = { 22 : accept, 80 : drop } }'",
                "nft add rule inet filter input ct state established,related counter accept",
                "nft add rule inet filter input ip saddr @bad counter drop",
                "nft add rule inet filter input tcp dport vmap @ports",
                "nft add table ip nat",
                "nft 'add chain ip nat post { type nat hook postrouting priority srcnat; }'",
                "nft add rule ip nat post oifname veth1 masquerade" }) {
            ModnetRuntime.run(processor, "ns2", c);
        }
        ping("ns1", "10.0.0.2"); // a counter that is not zero
        String listed = ModnetRuntime.run(processor, "ns2", "nft list ruleset");
        assertThat(listed, containsString("elements = { 192.0.2.0/24, 198.51.100.7 }"));
        assertEquals("", ModnetRuntime.run(processor, "ns1", "nft list ruleset").strip());

        ModnetRuntime.run(processor, null, "ip netns exec ns2 nft list ruleset | ip netns exec ns1 nft -f -");
        assertEquals(listed, ModnetRuntime.run(processor, "ns1", "nft list ruleset"));
        assertEquals("ns2's own ruleset is unchanged", listed, ModnetRuntime.run(processor, "ns2", "nft list ruleset"));

        Path file = Files.createTempFile("nftables-it", ".nft");
        try {
            ModnetRuntime.run(processor, "ns1", "nft list ruleset > " + file);
            ModnetRuntime.run(processor, "ns1", "nft flush ruleset");
            assertEquals("", ModnetRuntime.run(processor, "ns1", "nft list ruleset").strip());
            ModnetRuntime.run(processor, "ns1", "nft -f " + file);
            assertEquals(listed, ModnetRuntime.run(processor, "ns1", "nft list ruleset"));
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
