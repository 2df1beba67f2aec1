package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.util.List;

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

/** Policy routing (issue 20) through the shell: {@code ip rule}, tables by id, fwmark, beside Linux's {@code ip rule}. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class IpRuleIT {

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
    public void installHost() throws Exception {
        features.install("host");
        ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.RouteTable.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.Ipv4.class, null);
    }

    private String sh(String line) throws Exception {
        return ModnetRuntime.run(processor, line);
    }

    /** The message a failing command printed (what the shell shows). */
    private String error(String line) throws Exception {
        try {
            String out = sh(line);
            fail(line + " succeeded: " + out);
            return null;
        } catch (Exception e) {
            return String.valueOf(e.getMessage());
        }
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

    /**
     * A host {@code h} with two uplinks — eth0 to u1 (192.168.0.0/24), eth1 to u2 (192.168.1.0/24) — and a
     * client network behind it on eth2 (c, 10.0.1.0/24). Both uplinks answer for 10.99.0.1 and route
     * 10.0.1.0/24 back to h. Main's default goes by u1, table 100's by u2.
     */
    private void twoUplinks() throws Exception {
        for (String n : new String[] { "h", "u1", "u2", "c" }) {
            sh("ip netns add " + n);
        }
        String[][] links = { { "eth0", "u1", "up0" }, { "eth1", "u2", "up1" }, { "eth2", "c", "eth0" } };
        for (String[] l : links) {
            sh("ip -n " + l[1] + " link add " + l[2] + " type veth peer name " + l[0]);
            sh("ip -n " + l[1] + " link set " + l[0] + " netns h");
        }
        sh("ip -n h addr add 192.168.0.1/24 dev eth0");
        sh("ip -n h addr add 192.168.1.1/24 dev eth1");
        sh("ip -n h addr add 10.0.1.1/24 dev eth2");
        sh("ip -n u1 addr add 192.168.0.254/24 dev up0");
        sh("ip -n u2 addr add 192.168.1.254/24 dev up1");
        sh("ip -n c addr add 10.0.1.2/24 dev eth0");
        for (String[] d : new String[][] { { "h", "lo" }, { "h", "eth0" }, { "h", "eth1" }, { "h", "eth2" }, { "u1", "lo" },
                { "u1", "up0" }, { "u2", "lo" }, { "u2", "up1" }, { "c", "lo" }, { "c", "eth0" } }) {
            sh("ip -n " + d[0] + " link set " + d[1] + " up");
        }
        sh("ip -n u1 addr add 10.99.0.1/32 dev lo");
        sh("ip -n u2 addr add 10.99.0.1/32 dev lo");
        sh("ip -n u1 route add 10.0.1.0/24 via 192.168.0.1");
        sh("ip -n u2 route add 10.0.1.0/24 via 192.168.1.1");
        sh("ip -n c route add default via 10.0.1.1");
        sh("ip netns exec h sysctl -w net.ipv4.ip_forward=1");
        sh("ip -n h route add default via 192.168.0.254");
        sh("ip -n h route add default via 192.168.1.254 table 100");
    }

    /** Pings 10.99.0.1 from a namespace; returns which uplink answered ("u1" or "u2") by their echo counters. */
    private String uplinkOf(String ns, String pingOptions) throws Exception {
        long u1 = nstat("u1", "IcmpInEchos");
        long u2 = nstat("u2", "IcmpInEchos");
        assertThat(sh("ip netns exec " + ns + " ping -c 1 -W 2 " + pingOptions + " 10.99.0.1"), containsString("1 received"));
        long d1 = nstat("u1", "IcmpInEchos") - u1;
        long d2 = nstat("u2", "IcmpInEchos") - u2;
        assertEquals("exactly one uplink saw the echo (u1 " + d1 + ", u2 " + d2 + ")", 1, d1 + d2);
        return d1 == 1 ? "u1" : "u2";
    }

    @Test
    public void aSourceRuleSendsThatSourcesTrafficOutTheSecondUplinkAndTheRestByMain() throws Exception {
        twoUplinks();
        assertEquals("by main, before any rule", "u1", uplinkOf("c", ""));
        sh("ip -n h rule add from 10.0.1.0/24 table 100");
        assertEquals("0:\tfrom all lookup local\n32765:\tfrom 10.0.1.0/24 lookup 100\n32766:\tfrom all lookup main\n"
                + "32767:\tfrom all lookup default\n", sh("ip -n h rule"));
        assertEquals("forwarded from 10.0.1.2: table 100", "u2", uplinkOf("c", ""));
        assertEquals("sent by h from 10.0.1.1: table 100", "u2", uplinkOf("h", "-I 10.0.1.1"));
        assertEquals("sent by h from 192.168.0.1: main", "u1", uplinkOf("h", ""));
        assertThat(sh("ip -n h route get 10.99.0.1 from 10.0.1.1"),
                containsString("10.99.0.1 from 10.0.1.1 via 192.168.1.254 dev eth1 table 100 uid 0"));
        assertThat(sh("ip -n h route get 10.99.0.1 from 10.0.1.2 iif eth2"),
                containsString("10.99.0.1 from 10.0.1.2 via 192.168.1.254 dev eth1 table 100\n    cache iif eth2"));
        assertThat(sh("ip -n h route get 10.99.0.1"), containsString("10.99.0.1 via 192.168.0.254 dev eth0 src 192.168.0.1 uid 0"));
        sh("ip -n h rule del from 10.0.1.0/24");
        assertEquals("the rule deleted: main again", "u1", uplinkOf("c", ""));
        assertThat(error("ip -n h rule del from 10.0.1.0/24"), containsString("RTNETLINK answers: No such file or directory"));
    }

    @Test
    public void aMarkSteersByFwmarkRules() throws Exception {
        twoUplinks();
        sh("ip -n h rule add fwmark 0x10/0xf0 table 100");
        assertEquals("ping -m 0x17's mark under the mask: table 100", "u2", uplinkOf("h", "-m 23"));
        assertEquals("no mark: main", "u1", uplinkOf("h", ""));
        assertThat(sh("ip -n h route get 10.99.0.1 mark 0x10"),
                containsString("10.99.0.1 via 192.168.1.254 dev eth1 table 100 src 192.168.1.1 mark 0x10 uid 0"));
    }

    @Test
    public void aBlackholeRuleRefusesALocalSenderWithEinval() throws Exception {
        twoUplinks();
        sh("ip -n h rule add to 10.99.0.0/16 blackhole");
        assertThat(error("ip netns exec h ping -c 1 10.99.0.1"), containsString("ping: connect: Invalid argument"));
        assertThat(error("ip -n h route get 10.99.0.1"), containsString("RTNETLINK answers: Invalid argument"));
        sh("ip -n h rule add to 10.99.0.0/16 prohibit pref 100");
        assertThat(error("ip -n h route get 10.99.0.1"), containsString("RTNETLINK answers: Permission denied"));
        sh("ip -n h rule add to 10.99.0.0/16 unreachable pref 50");
        assertThat(error("ip -n h route get 10.99.0.1"), containsString("RTNETLINK answers: Network is unreachable"));
        sh("ip -n h rule flush");
        assertEquals("0:\tfrom all lookup local\n", sh("ip -n h rule"));
        assertThat(error("ip -n h route get 10.99.0.1"), containsString("RTNETLINK answers: Network is unreachable"));
    }

    @Test
    public void tablesByIdAreListedFlushedAndRefusedAsLinuxDoes() throws Exception {
        sh("ip netns add t");
        sh("ip -n t link set lo up");
        sh("ip -n t route add 10.5.0.0/16 dev lo table 100");
        sh("ip -n t route add blackhole 10.6.0.0/16 table 100");
        sh("ip -n t route add unreachable default table 4000000000");
        assertEquals("10.5.0.0/16 dev lo scope link\nblackhole 10.6.0.0/16\n", sh("ip -n t route show table 100"));
        assertEquals("[{\"dst\":\"10.5.0.0/16\",\"dev\":\"lo\",\"scope\":\"link\",\"flags\":[]},"
                + "{\"type\":\"blackhole\",\"dst\":\"10.6.0.0/16\",\"flags\":[]}]\n", sh("ip -n t -j route show table 100"));
        String all = sh("ip -n t route show table all");
        assertThat(all, containsString("unreachable default table 4000000000\n10.5.0.0/16 dev lo table 100 scope link\n"
                + "blackhole 10.6.0.0/16 table 100\nlocal 127.0.0.0/8 dev lo table local"));
        assertThat(error("ip -n t route show table 101"), containsString("Error: ipv4: FIB table does not exist.\nDump terminated"));
        assertThat(error("ip -n t route add 10.7.0.0/16 dev lo table foo"),
                containsString("Error: argument \"foo\" is wrong: \"table\" value is invalid"));
        sh("ip -n t route flush table 100");
        assertEquals("", sh("ip -n t route show table 100"));
        assertThat(error("ip -n t route del 10.5.0.0/16 table 100"), containsString("RTNETLINK answers: No such process"));
        sh("ip -n t rule add fwmark 1 table 100");
        assertThat(error("ip -n t route get 10.5.0.1 mark 1"), containsString("RTNETLINK answers: Network is unreachable"));
        sh("ip -n t route add 10.5.0.0/16 dev lo table 100");
        String get = sh("ip -n t route get 10.5.0.1 mark 1");
        assertThat(get, containsString("10.5.0.1 dev lo table 100 "));
        assertThat(get, containsString(" mark 1 uid 0\n")); // Linux gives no src here (lo's 127.0.0.1 is host scope); modnet does
    }

    /** The rules both sides are given, in order. */
    private static final List<String> RULES = List.of("rule add from 10.0.1.0/24 table 100", "rule add to 10.9.0.0/16 blackhole",
            "rule add fwmark 0x1/0xff iif eth9 oif lo lookup main pref 50",
            "rule add not from 1.2.3.4 tos 0x10 ipproto udp sport 1000-2000 dport 53 table 200", "rule add prohibit pref 10",
            "rule add unreachable", "rule add goto 32766 pref 20", "rule add table main suppress_prefixlength 0 pref 30",
            "rule add goto 40000 pref 35", "rule add nop pref 60", "rule add from 1.2.3.4/8 table 4294967295 pref 79",
            "rule add fwmark 1 table 100", "rule add dport 70000 table 1 pref 80", "rule add table 0 pref 81", "rule del pref 10",
            "rule add iif lo oif lo pref 89 table 1");

    /** What is looked at on both sides after the rules. */
    private static final List<String> VIEWS = List.of("rule", "-j rule", "-j -p rule list pref 20", "rule list table 100",
            "rule show fwmark 1", "rule list from 1.2.3.4/8", "rule list pref 35", "-j rule list iif eth9");

    /** Wrong uses on both sides, after the rules: the words each prints. */
    private static final List<String> WRONG = List.of("rule del pref 12345", "rule add goto 0", "rule add table foo",
            "rule add sport 5-3 table 1", "rule add tos 0x01 table 1", "rule add nop pref 60", "rule add blah",
            "rule add from 10.0.0.0/33 table 1", "rule add fwmark xyz table 1", "rule add pref 4294967296 table 1", "rule del",
            "rule add ipproto foo table 1");

    /**
     * {@code ip rule} listings for the same commands in modnet and in a Linux namespace, text and JSON,
     * the same; the wrong uses in the same words.
     */
    @Test
    public void ruleListingsAndErrorsAreLinuxs() throws Exception {
        sh("ip netns add r");
        for (String c : RULES) {
            sh("ip -n r " + c);
        }
        java.util.Map<String, String> ours = new java.util.LinkedHashMap<>();
        for (String v : VIEWS) {
            ours.put(v, sh("ip -n r " + v));
        }
        java.util.Map<String, String> ourErrors = new java.util.LinkedHashMap<>();
        for (String w : WRONG) {
            ourErrors.put(w, error("ip -n r " + w));
        }
        assertThat(ours.get("rule"), containsString("20:\tfrom all goto 32766\n30:\tfrom all lookup main suppress_prefixlength 0\n"
                + "35:\tfrom all goto 40000 [unresolved]\n"));
        assertThat(ours.get("rule"), containsString("50:\tfrom all fwmark 0x1/0xff iif eth9 [detached] oif lo lookup main\n"));
        assertThat(ourErrors.get("rule add goto 0"), containsString("Error: Backward goto not supported."));

        org.junit.Assume.assumeTrue("Linux's side needs root and iproute2's ip", Processes.isRoot() && Processes.onPath("ip"));
        String ln = "modnet-rule-" + ProcessHandle.current().pid();
        Processes.run("ip", "netns", "add", ln);
        try {
            Processes.run("ip", "-n", ln, "link", "set", "lo", "up");
            for (String c : RULES) {
                Processes.Result r = Processes.run(("ip -n " + ln + " " + c).split(" "));
                assertEquals(c + ": " + r, 0, r.status());
            }
            for (String v : VIEWS) {
                Processes.Result r = Processes.run(("ip -n " + ln + " " + v).split(" "));
                assertEquals("ip " + v, r.out(), ours.get(v));
            }
            for (String w : WRONG) {
                Processes.Result r = Processes.run(("ip -n " + ln + " " + w).split(" "));
                assertThat("ip " + w, ourErrors.get(w), containsString(r.err().trim()));
            }
        } finally {
            Processes.run("ip", "netns", "del", ln);
        }
    }
}
