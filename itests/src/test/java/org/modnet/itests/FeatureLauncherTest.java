package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.modnet.itests.Processes.Result;

/** Features through bin/modnet: booting the router, installing xdp live, moving host -> router -> host. */
class FeatureLauncherTest {
    private static final String MODNET = Processes.modnet().toString();
    /** Output sections; ping's statistics line ends with "---" itself. */
    private static final String CUT = "cut-here";
    /** An XDP program that drops ICMP, built once by clang -target bpf and kept for the fuzzer's corpus. */
    private static final String XDP_DROP_ICMP = ModnetRuntime.root()
            .resolve("fuzz/src/test/resources/corpus/elf/xdp_drop_icmp-v1.o").toString();

    /** a (10.0.1.2) - r - b (10.0.2.2) over two veth pairs; r forwards because the router feature says so. */
    private static final String THREE_NAMESPACES = String.join(" ; ",
            "ip netns add a", "ip netns add r", "ip netns add b",
            "ip -n r link add ra type veth peer name a0", "ip -n r link set a0 netns a",
            "ip -n r link add rb type veth peer name b0", "ip -n r link set b0 netns b",
            "ip -n a addr add 10.0.1.2/24 dev a0", "ip -n r addr add 10.0.1.1/24 dev ra",
            "ip -n r addr add 10.0.2.1/24 dev rb", "ip -n b addr add 10.0.2.2/24 dev b0",
            "ip -n a link set a0 up", "ip -n r link set ra up", "ip -n r link set rb up", "ip -n b link set b0 up",
            "ip -n a route add default via 10.0.1.1", "ip -n b route add default via 10.0.2.1");

    @Test
    void theRouterFeatureForwardsBetweenTwoNamespacesWithoutSocketsAndTakesXdpLive() throws Exception {
        Result r = Processes.run(MODNET, "--feature", "router", "-c", THREE_NAMESPACES
                + " ; ip netns exec r sysctl net.ipv4.ip_forward net.ipv4.conf.all.forwarding"
                + " ; ip netns exec a ping -c 3 -i 0.2 10.0.2.2"
                + " ; echo cut-here ; lb ; echo cut-here ; feature install xdp ; feature list"
                + " ; echo cut-here ; ip -n r link set dev rb xdp obj " + XDP_DROP_ICMP + " sec xdp ; bpftool prog show"
                + " ; ip netns exec a ping -c 2 -i 0.2 -W 1 10.0.2.2"
                + " ; echo cut-here ; ip -n r link set dev rb xdp off ; ip netns exec a ping -c 2 -i 0.2 10.0.2.2");
        assertEquals(1, r.status(), "the ping XDP drops exits 1, as Linux's ping does; nothing else fails\n" + r);
        assertTrue(r.err().isEmpty(), r.toString());
        String[] parts = r.out().split(CUT + "\n");
        assertEquals(5, parts.length, r.toString());
        String before = parts[0];
        String bundles = parts[1];
        String after = parts[2];
        assertTrue(before.contains("net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.forwarding = 1\n"),
                "the feature's sysctls reach a namespace made after it\n" + r);
        assertTrue(before.contains("bytes from 10.0.2.2: icmp_seq=1 ttl=63"), "a reaches b through r (TTL 64 - 1)\n" + r);
        assertTrue(Pattern.compile("3 packets transmitted, 3 received, 0% packet loss").matcher(before).find(), r.toString());
        for (String absent : new String[] { "modnet UDP", "modnet TCP", "modnet socket", "modnet eBPF" }) {
            assertFalse(bundles.toLowerCase().contains(absent.toLowerCase()), absent + " is not in the router\n" + bundles);
        }
        assertTrue(after.contains("installed and started org.modnet.ebpf 0.1.0.SNAPSHOT\n"), r.toString());
        assertTrue(after.contains("installed and started org.modnet.xdp 0.1.0.SNAPSHOT\n"), r.toString());
        assertTrue(after.contains("present org.modnet.core 0.1.0.SNAPSHOT\n"), r.toString());
        assertTrue(after.contains("feature xdp installed\n"), r.toString());
        assertTrue(Pattern.compile("(?m)^router\\s+installed\\s").matcher(after).find(), r.toString());
        assertTrue(Pattern.compile("(?m)^xdp\\s+installed\\s").matcher(after).find(), r.toString());
        assertTrue(Pattern.compile("(?m)^host\\s+-\\s").matcher(after).find(), r.toString());

        assertTrue(parts[3].contains("name xdp_drop_icmp"), "bpftool sees the program on r's rb\n" + r);
        assertTrue(parts[3].contains("2 packets transmitted, 0 received"), "XDP on rb drops b's replies\n" + r);
        assertTrue(parts[4].contains("2 packets transmitted, 2 received"), "xdp off: forwarding is back\n" + r);
    }

    @Test
    void movingFromHostToRouterAndBackChangesBundlesAndForwardingLive() throws Exception {
        Result r = Processes.run(MODNET, "--feature", "host", "-c", String.join(" ; ",
                "sysctl net.ipv4.ip_forward", "ip netns add x", "echo cut-here",
                "feature install router", "feature uninstall host", "ip netns exec x sysctl net.ipv4.ip_forward",
                "echo cut-here", "lsmod", "echo cut-here",
                "feature install host", "feature uninstall router", "ip netns exec x sysctl net.ipv4.ip_forward",
                "sysctl net.ipv4.ip_forward", "echo cut-here", "lsmod"));
        assertEquals(0, r.status(), r.toString());
        String[] parts = r.out().split(CUT + "\n");
        assertEquals(5, parts.length, r.toString());
        assertTrue(parts[0].startsWith("net.ipv4.ip_forward = 0\n"), "Linux's default on a host\n" + r);

        String toRouter = parts[1];
        assertTrue(toRouter.contains("configured org.modnet.sysctl net.ipv4.conf.all.forwarding=1 net.ipv4.ip_forward=1\n"), r.toString());
        assertTrue(toRouter.contains("present org.modnet.ipv4 0.1.0.SNAPSHOT\n"), r.toString());
        assertTrue(toRouter.contains("stopped and uninstalled org.modnet.tcp 0.1.0.SNAPSHOT\n"), r.toString());
        assertTrue(toRouter.contains("stopped and uninstalled org.modnet.udp 0.1.0.SNAPSHOT\n"), r.toString());
        assertTrue(toRouter.contains("kept org.modnet.ipv4 0.1.0.SNAPSHOT: feature router lists it\n"), r.toString());
        assertTrue(toRouter.contains("net.ipv4.ip_forward = 1\n"), "a namespace that existed before takes it too\n" + r);
        assertFalse(parts[2].contains("org.modnet.tcp "), "lsmod shows no TCP on the router\n" + parts[2]);
        assertTrue(parts[2].contains("org.modnet.ipv4 "), parts[2]);

        String toHost = parts[3];
        assertTrue(toHost.contains("installed and started org.modnet.tcp 0.1.0.SNAPSHOT\n"), r.toString());
        assertTrue(toHost.contains("deleted configuration org.modnet.sysctl\n"), r.toString());
        assertTrue(toHost.contains("net.ipv4.ip_forward = 0\nnet.ipv4.ip_forward = 0\n"),
                "uninstalling the router puts Linux's default back in every namespace\n" + r);
        assertTrue(parts[4].contains("org.modnet.tcp "), "lsmod shows TCP again\n" + parts[4]);
    }
}
