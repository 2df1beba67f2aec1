package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.CoreMatchers.not;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
 * {@code net.ipv4.conf.{all,default,DEV}.*} through the shell: the directories of a namespace with lo
 * and a veth pair, their keys and defaults compared with Linux's in the same set-up (where root), and
 * how they follow devices and each other.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class Ipv4ConfIT {
    /**
     * Linux's per-device keys modnet does not list because it has no behaviour for them (the README
     * says why for each): multicast and IGMP, xfrm policy, source routing, BOOTP relay, directed
     * broadcast forwarding, fwmark-aware rp_filter, secondary promotion, link-down routes, private VLAN
     * proxy ARP, eviction on carrier loss, medium ids and tags.
     */
    private static final Set<String> ABSENT = Set.of("mc_forwarding", "force_igmp_version",
            "igmpv2_unsolicited_report_interval", "igmpv3_unsolicited_report_interval", "disable_policy", "disable_xfrm",
            "accept_source_route", "bootp_relay", "bc_forwarding", "src_valid_mark", "promote_secondaries",
            "ignore_routes_with_linkdown", "proxy_arp_pvlan", "arp_evict_nocarrier", "medium_id", "tag");

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
    }

    private String sh(String line) throws Exception {
        return ModnetRuntime.run(processor, line);
    }

    /** {@code name = value} lines as a sorted map. */
    private static Map<String, String> keys(String sysctlOutput) {
        Map<String, String> m = new TreeMap<>();
        for (String line : sysctlOutput.split("\n")) {
            int eq = line.indexOf(" = ");
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 3));
            } else if (line.endsWith(" =")) {
                m.put(line.substring(0, line.length() - 2), "");
            }
        }
        return m;
    }

    @Test
    public void theConfDirectoriesOfLoAndAVethHaveLinuxsKeysAndDefaults() throws Exception {
        sh("ip netns add ca");
        sh("ip -n ca link add eth0 type veth peer name eth1");
        Map<String, String> modnet = keys(sh("ip netns exec ca sysctl -a | grep net.ipv4.conf"));
        for (String dir : new String[] { "all", "default", "lo", "eth0", "eth1" }) {
            for (String key : new String[] { "forwarding", "rp_filter", "arp_ignore", "proxy_arp", "send_redirects" }) {
                assertTrue(dir + "." + key + " in " + modnet.keySet(), modnet.containsKey("net.ipv4.conf." + dir + "." + key));
            }
        }
        Map<String, String> ipv4 = keys(sh("ip netns exec ca sysctl -a | grep net.ipv4"));

        org.junit.Assume.assumeTrue("Linux's side needs root and iproute2's ip (.ci/run installs iproute2)",
                Processes.isRoot() && Processes.onPath("ip") && Processes.onPath("sysctl"));
        String ln = "modnet-conf-" + ProcessHandle.current().pid();
        assertEquals(0, Processes.run("ip", "netns", "add", ln).status());
        try {
            assertEquals(0, Processes.run("ip", "-n", ln, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1").status());
            Map<String, String> linux = keys(Processes.run("ip", "netns", "exec", ln, "sysctl", "-a").out());
            linux.keySet().removeIf(k -> !k.startsWith("net.ipv4."));
            for (Map.Entry<String, String> e : modnet.entrySet()) {
                assertEquals(e.getKey(), linux.get(e.getKey()), e.getValue());
            }
            for (String k : linux.keySet()) {
                if (k.startsWith("net.ipv4.conf.") && !modnet.containsKey(k)) {
                    assertTrue(k + " is neither listed by modnet nor among the keys the README says are absent",
                            ABSENT.contains(k.substring(k.lastIndexOf('.') + 1)));
                }
            }
            for (String k : new String[] { "net.ipv4.icmp_echo_ignore_broadcasts", "net.ipv4.icmp_ignore_bogus_error_responses",
                    "net.ipv4.ip_nonlocal_bind", "net.ipv4.ip_local_reserved_ports", "net.ipv4.ip_forward",
                    "net.ipv4.icmp_errors_use_inbound_ifaddr" }) {
                assertEquals(k, linux.get(k), ipv4.get(k));
            }
        } finally {
            Processes.run("ip", "netns", "del", ln);
        }
    }

    @Test
    public void directoriesFollowTheirDevicesAndIpForwardReachesEveryOne() throws Exception {
        sh("ip netns add cb");
        sh("ip -n cb link add eth0 type veth peer name eth1");
        sh("ip netns exec cb sysctl -w net.ipv4.conf.eth0.rp_filter=2");
        sh("ip -n cb link set eth0 name wan0");
        assertEquals("net.ipv4.conf.wan0.rp_filter = 2\n", sh("ip netns exec cb sysctl net.ipv4.conf.wan0.rp_filter"));
        assertThat(sh("ip netns exec cb sysctl -a"), not(containsString("net.ipv4.conf.eth0.")));
        sh("ip netns exec cb sysctl -w net.ipv4.conf.default.rp_filter=1");
        assertEquals("default reaches eth1", "1\n", sh("ip netns exec cb sysctl -n net.ipv4.conf.eth1.rp_filter"));
        assertEquals("but not a written value", "2\n", sh("ip netns exec cb sysctl -n net.ipv4.conf.wan0.rp_filter"));
        sh("ip netns exec cb sysctl -w net.ipv4.ip_forward=1");
        for (String dir : new String[] { "all", "default", "lo", "wan0", "eth1" }) {
            assertEquals(dir, "1\n", sh("ip netns exec cb sysctl -n net.ipv4.conf." + dir + ".forwarding"));
        }
        sh("ip -n cb link del wan0");
        assertThat(sh("ip netns exec cb sysctl -a"), not(containsString("net.ipv4.conf.wan0.")));
    }
}
