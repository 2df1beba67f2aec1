package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;

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

/** nft through the shell: a stateful inet filter input chain between two namespaces joined by a veth pair. */
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

        CompletableFuture<String> listener = CompletableFuture.supplyAsync(() -> {
            try {
                return ModnetRuntime.runCapturing(processor, "ns2", "nc -l 5999");
            } catch (Exception e) {
                return e.toString();
            }
        });
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ModnetRuntime.run(processor, "ns2", "ss -t -l -n").contains(":5999") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
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
}
