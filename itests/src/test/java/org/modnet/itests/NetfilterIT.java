package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

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

/** iptables' filter table through the shell between two namespaces joined by a veth pair. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class NetfilterIT {
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
        features.install("host");
        NetCore core = ModnetRuntime.service(context, NetCore.class, null);
        ModnetRuntime.service(context, org.modnet.api.netfilter.NfHookFunction.class, null);
        ModnetRuntime.service(context, org.modnet.api.inet.SnmpMib.class, null);
        ModnetRuntime.vethPair(context, core);
        for (int i = 0; i < 100; i++) {
            try {
                ModnetRuntime.run(processor, "ns1", "iptables -S");
                break;
            } catch (Exception notYet) {
                Thread.sleep(50); // the command registers as its DS component activates
            }
        }
        ModnetRuntime.run(processor, "ns1", "ping -c 1 10.0.0.2"); // ARP resolved first
    }

    private String ping(String ns, String dst) throws Exception {
        return ModnetRuntime.runCapturing(processor, ns, "ping -c 2 -i 0.2 -W 1 " + dst);
    }

    @Test
    public void inputAndOutputRulesBlockAndAllowPingsWithCountersMoving() throws Exception {
        ModnetRuntime.run(processor, "ns2", "iptables -A INPUT -p icmp --icmp-type echo-request -j DROP");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 0 received"));
        assertThat(ModnetRuntime.run(processor, "ns2", "iptables -L INPUT -n -v -x"), containsString(
                "\n       2      168 DROP       1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8\n"));
        assertThat(ModnetRuntime.run(processor, "ns2", "iptables -S INPUT -v"),
                containsString("-A INPUT -p icmp -m icmp --icmp-type 8 -c 2 168 -j DROP\n"));
        ModnetRuntime.run(processor, "ns2", "iptables -R INPUT 1 -p icmp --icmp-type echo-request -j LOG --log-prefix \"ping: \"");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 packets transmitted, 2 received"));
        assertThat(ModnetRuntime.run(processor, "ns2", "iptables -L INPUT -n -v"),
                containsString("    2   168 LOG        1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8 LOG flags 0 level 4 prefix \"ping: \""));
        ModnetRuntime.run(processor, "ns2", "iptables -D INPUT 1");

        ModnetRuntime.run(processor, "ns1", "iptables -A OUTPUT -d 10.0.0.2 -p icmp -j DROP");
        assertThat(ping("ns1", "10.0.0.2"), containsString("0 received"));
        assertThat(ModnetRuntime.run(processor, "ns1", "iptables -L OUTPUT -n -v"), containsString("    2   168 DROP       1 "));
        ModnetRuntime.run(processor, "ns1", "iptables -F");
        assertThat(ping("ns1", "10.0.0.2"), containsString("2 received"));
        // the table is per namespace: ns2's rules stay out of ns1
        assertEquals("-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n", ModnetRuntime.run(processor, "ns1", "iptables -S"));
    }

    @Test
    public void udpIsBlockedByPortAndAllowedAgain() throws Exception {
        ModnetRuntime.run(processor, "ns2", "iptables -A INPUT -p udp --dport 5002 -j DROP");
        CompletableFuture<String> listener = ModnetRuntime.serve(processor, "ns2", "nc -u -l -k -W 1 5002", true, 5002);
        ModnetRuntime.runCapturing(processor, "ns1", "echo blocked | nc -u -q 0.5 10.0.0.2 5002");
        assertThat(ModnetRuntime.run(processor, "ns2", "iptables -L INPUT -n -v"),
                containsString("    1    36 DROP       17   --  *      *       0.0.0.0/0            0.0.0.0/0            udp dpt:5002"));
        ModnetRuntime.run(processor, "ns2", "iptables -R INPUT 1 -p udp --dport 5002 -j ACCEPT");
        ModnetRuntime.runCapturing(processor, "ns1", "echo allowed | nc -u -q 0.5 10.0.0.2 5002");
        assertEquals("allowed\n", listener.get(20, TimeUnit.SECONDS));
        assertThat(ModnetRuntime.run(processor, "ns2", "iptables -L INPUT -n -v"), containsString("    1    36 ACCEPT     17 "));
    }

    @Test
    public void rejectAnswersWithPortUnreachable() throws Exception {
        ModnetRuntime.run(processor, "ns2", "iptables -A INPUT -p icmp -j REJECT");
        // on the wire: the ICMP error the rule names, from ns2, quoting the echo request
        CompletableFuture<String> wire = ModnetRuntime.capture(context, processor, "ns1",
                "tcpdump -i veth0 -n -v -c 1 src host 10.0.0.2 and icmp");
        String out = ping("ns1", "10.0.0.2");
        assertThat(out, containsString("Destination Port Unreachable"));
        String error = wire.get(10, TimeUnit.SECONDS);
        assertThat(error, containsString("10.0.0.2 > 10.0.0.1: ICMP"));
        assertThat(error, containsString("ICMP 10.0.0.2 protocol 1 port "));
        assertThat(error, containsString(" unreachable, length 92"));
        assertThat(error, containsString("10.0.0.1 > 10.0.0.2: ICMP echo request"));
        ModnetRuntime.run(processor, "ns2", "iptables -R INPUT 1 -p icmp -j REJECT --reject-with icmp-host-unreachable");
        assertThat(ping("ns1", "10.0.0.2"), containsString("Destination Host Unreachable"));
    }

    @Test
    public void rejectWithTcpResetRefusesAConnectionToAListeningPort() throws Exception {
        CompletableFuture<String> listener = ModnetRuntime.serve(processor, "ns2", "nc -l 5998", false, 5998);
        ModnetRuntime.run(processor, "ns2", "iptables -A INPUT -p tcp --dport 5998 -j REJECT --reject-with tcp-reset");
        // on the wire: the RST answering the SYN, its checksum right, from the port the SYN asked for
        CompletableFuture<String> wire = ModnetRuntime.capture(context, processor, "ns1",
                "tcpdump -i veth0 -n -v -c 1 src host 10.0.0.2 and tcp");
        long start = System.nanoTime();
        String refused = ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v -w 5 10.0.0.2 5998");
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(refused, containsString("nc: connect to 10.0.0.2 port 5998 (tcp) failed: Connection refused"));
        assertTrue("refused at once by the RST, not by a timeout: " + ms + " ms", ms < 4000);
        String rst = wire.get(10, TimeUnit.SECONDS);
        assertThat(rst, containsString("10.0.0.2.5998 > 10.0.0.1."));
        assertThat(rst, containsString("Flags [R.], cksum 0x"));
        assertThat(rst, containsString(" (correct), seq 0, ack "));
        assertThat(rst, containsString(", win 0, length 0"));
        assertThat(ModnetRuntime.run(processor, "ns2", "iptables -L INPUT -n -v"),
                containsString("REJECT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:5998 reject-with tcp-reset"));
        ModnetRuntime.run(processor, "ns2", "iptables -F INPUT");
        assertThat(ModnetRuntime.runCapturing(processor, "ns1", "nc -z -v 10.0.0.2 5998"),
                containsString("Connection to 10.0.0.2 5998 port [tcp/*] succeeded!"));
        listener.get(20, TimeUnit.SECONDS);
    }

    @Test
    public void forwardRulesOnARouterBetweenTwoNamespaces() throws Exception {
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
        assertThat(ping("a", "10.0.2.2"), containsString("2 received"));
        ModnetRuntime.run(processor, "r", "iptables -P FORWARD DROP");
        assertThat(ping("a", "10.0.2.2"), containsString("0 received"));
        assertThat(ModnetRuntime.run(processor, "r", "iptables -L FORWARD -v -n -x"),
                containsString("Chain FORWARD (policy DROP 2 packets, 168 bytes)"));
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -i ra -o rb -p icmp --icmp-type echo-request -j ACCEPT");
        ModnetRuntime.run(processor, "r", "iptables -A FORWARD -i rb -o ra -p icmp --icmp-type echo-reply -j ACCEPT");
        assertThat(ping("a", "10.0.2.2"), containsString("2 received"));
        String listed = ModnetRuntime.run(processor, "r", "iptables -L FORWARD -v -n");
        assertThat(listed, containsString("    2   168 ACCEPT     1    --  ra     rb      0.0.0.0/0            0.0.0.0/0            icmptype 8"));
        assertThat(listed, containsString("    2   168 ACCEPT     1    --  rb     ra      0.0.0.0/0            0.0.0.0/0            icmptype 0"));
        // b's pings to a are refused by the rules' directions, and the policy counts them
        assertThat(ping("b", "10.0.1.2"), containsString("0 received"));
        assertThat(ModnetRuntime.run(processor, "r", "iptables -L FORWARD -v -n -x"),
                containsString("Chain FORWARD (policy DROP 4 packets, 336 bytes)"));
    }

    @Test
    public void saveRestoreRoundTripsThroughAPipe() throws Exception {
        ModnetRuntime.run(processor, "ns1", "iptables -N web");
        ModnetRuntime.run(processor, "ns1", "iptables -A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -m comment --comment \"allow ssh\" -j web");
        ModnetRuntime.run(processor, "ns1", "iptables -A web -p udp -m multiport --dports 53,123 -j REJECT");
        ModnetRuntime.run(processor, "ns1", "iptables -P FORWARD DROP");
        String rules = ModnetRuntime.run(processor, "ns1", "iptables -S");
        ModnetRuntime.run(processor, "ns1", "iptables-save | iptables-restore");
        assertEquals(rules, ModnetRuntime.run(processor, "ns1", "iptables -S"));
        try {
            ModnetRuntime.run(processor, "ns1", "iptables -A INPUT -j nochain");
            fail("no such chain");
        } catch (Exception e) {
            assertThat(e.getMessage(), containsString("Couldn't load target `nochain'"));
        }
    }
}
