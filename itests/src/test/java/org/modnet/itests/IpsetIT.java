package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;


import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Assert;
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
 * ipset, {@code -m set} and {@code -m hashlimit} through the shell (issue 18): a client {@code a}, a
 * router {@code r} and a server {@code b} on veth pairs. A set blocks the address added to it and
 * cannot be destroyed while a rule uses it; a hashlimit bucket per source meters a ping flood and
 * /proc/net/ipt_hashlimit lists the source.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class IpsetIT {
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
                "ip -n a route add default via 10.0.1.1", "ip -n b route add default via 10.0.2.1",
                "ip netns exec r sysctl -w net.ipv4.ip_forward=1" }) {
            ModnetRuntime.run(processor, null, c);
        }
        for (int i = 0; i < 100; i++) {
            try {
                ModnetRuntime.run(processor, "r", "conntrack -C");
                ModnetRuntime.run(processor, "r", "ipset list");
                break;
            } catch (Exception notYet) {
                Thread.sleep(50); // the commands register as their DS components activate
            }
        }
    }

    @Test
    public void aSetBlocksWhatIsAddedToItAndCannotBeDestroyedWhileARuleUsesIt() throws Exception {
        ModnetRuntime.run(processor, "r", "ipset create blocked hash:ip timeout 600 counters");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -m set --match-set blocked src -j DROP");
        assertThat(ModnetRuntime.runCapturing(processor, "a", "ping -c 1 -W 1 10.0.2.2"),
                containsString("1 packets transmitted, 1 received"));
        ModnetRuntime.run(processor, "r", "ipset add blocked 10.0.1.2");
        assertThat(ModnetRuntime.runCapturing(processor, "a", "ping -c 2 -i 0.2 -W 1 10.0.2.2"),
                containsString("2 packets transmitted, 0 received"));
        assertThat(ModnetRuntime.run(processor, "r", "iptables -L FORWARD -n -v"),
                containsString("    2   168 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            match-set blocked src"));
        String list = ModnetRuntime.run(processor, "r", "ipset list blocked");
        assertThat(list, containsString("References: 1"));
        assertThat(list, containsString("10.0.1.2 timeout 59")); // of 600 s, a second or two gone
        assertThat(list, containsString(" packets 2 bytes 168"));
        assertThat(ModnetRuntime.runCapturing(processor, "r", "ipset destroy blocked"),
                containsString("ipset v7.17: Set cannot be destroyed: it is in use by a kernel component"));
        ModnetRuntime.run(processor, "r", "ipset del blocked 10.0.1.2");
        assertThat(ModnetRuntime.runCapturing(processor, "a", "ping -c 1 -W 1 10.0.2.2"),
                containsString("1 packets transmitted, 1 received"));
        ModnetRuntime.run(processor, "r", "iptables -F FORWARD");
        ModnetRuntime.run(processor, "r", "ipset destroy blocked");
        assertThat(ModnetRuntime.run(processor, "r", "ipset list -n"), not(containsString("blocked")));
    }

    @Test
    public void hashlimitMetersEachSourceAndListsItInProc() throws Exception {
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -p icmp --icmp-type echo-request -m hashlimit --hashlimit-upto 1/sec "
                + "--hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name pings --hashlimit-htable-expire 60000 -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -p icmp --icmp-type echo-request -j DROP");
        String ping = ModnetRuntime.runCapturing(processor, "a", "ping -q -c 10 -i 0.05 -W 1 10.0.2.2");
        String listed = ModnetRuntime.run(processor, "r", "iptables -L FORWARD -n -v -x");
        long passed = -1;
        for (String l : listed.split("\n")) {
            if (l.contains("limit: up to 1/sec burst 3 mode srcip htable-expire 60000")) {
                passed = Long.parseLong(l.trim().split("\\s+")[0]);
            }
        }
        // the burst of 3, and a fourth if the flood outlasted a second on a slow machine
        Assert.assertTrue(listed, passed >= 3 && passed <= 4);
        assertThat(ping, containsString("10 packets transmitted, " + passed + " received"));
        assertThat(ModnetRuntime.run(processor, "r", "cat /proc/net/ipt_hashlimit/pings"), containsString(" 10.0.1.2:0->0.0.0.0:0 "));
        ModnetRuntime.run(processor, "r", "iptables -F FORWARD");
        assertThat(ModnetRuntime.runCapturing(processor, "r", "cat /proc/net/ipt_hashlimit/pings"), not(containsString("10.0.1.2")));
    }
}
