package org.modnet.nftables;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.inet.Ipv4;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.netfilter.NfNatLookup;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.api.skb.SkBuff;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * nf_tables for every namespace and the {@code nft} command. Its filter chains run from one hook
 * function on each of the five hooks at priority 0 (NF_IP_PRI_FILTER), base chains in their priority's
 * order within it; its nat chains are asked by the conntrack bundle's NAT core at -100 (dstnat) and
 * 100 (srcnat). A namespace's ruleset is made the first time nft touches it.
 */
@Component(service = { NftCommand.class, PernetOperations.class }, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=nft", PernetOperations.ORDER + ":Integer=41" })
public final class NftCommand implements PernetOperations {
    private final NetCore core;
    private final Map<NetNamespace, Ruleset> rulesets = new ConcurrentHashMap<>();
    private final List<ServiceRegistration<?>> regs = new ArrayList<>();
    private volatile Ipv4 ipv4;

    @Activate
    public NftCommand(@Reference NetCore core, BundleContext context) {
        this.core = core;
        if (context == null) {
            return;
        }
        NfHookFunction fn = this::hook;
        for (NfHook h : NfHook.values()) {
            Hashtable<String, Object> p = new Hashtable<>();
            p.put(NfHookFunction.HOOK, h.name());
            p.put(NfHookFunction.PRIORITY, 0);
            regs.add(context.registerService(NfHookFunction.class, fn, p));
        }
        NfNatLookup nat = this::natLookup;
        for (NfHook h : new NfHook[] { NfHook.PRE_ROUTING, NfHook.LOCAL_IN, NfHook.LOCAL_OUT, NfHook.POST_ROUTING }) {
            Hashtable<String, Object> p = new Hashtable<>();
            p.put(NfHookFunction.HOOK, h.name());
            p.put(NfHookFunction.PRIORITY, h == NfHook.PRE_ROUTING || h == NfHook.LOCAL_OUT ? -100 : 100);
            regs.add(context.registerService(NfNatLookup.class, nat, p));
        }
    }

    @Deactivate
    void deactivate() {
        for (ServiceRegistration<?> r : regs) {
            try {
                r.unregister();
            } catch (IllegalStateException gone) {
                // the framework took it down already
            }
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setIpv4(Ipv4 v) {
        ipv4 = v;
    }

    void unsetIpv4(Ipv4 v) {
        if (ipv4 == v) {
            ipv4 = null;
        }
    }

    @Override
    public void init(NetNamespace ns) {
        // made when nft first touches the namespace
    }

    @Override
    public void exit(NetNamespace ns) {
        rulesets.remove(ns);
    }

    /** The filter chains of {@code ns} on {@code hook} (public for benchmarks that run without OSGi). */
    public Verdict hook(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out) {
        Ruleset r = rulesets.get(ns);
        return r == null ? Verdict.ACCEPT : r.run(hook, skb, in, out, false, null);
    }

    public Verdict natLookup(SkBuff skb, NfHook hook, NetNamespace ns, NetDevice in, NetDevice out, NfNat nat) {
        Ruleset r = rulesets.get(ns);
        return r == null ? Verdict.ACCEPT : r.run(hook, skb, in, out, true, nat);
    }

    Ruleset ruleset(NetNamespace ns) {
        return rulesets.computeIfAbsent(ns, n -> {
            Ruleset r = new Ruleset();
            r.rejecter = new Expr.Rejecter() {
                @Override
                public void reject(SkBuff skb, int code) {
                    Ipv4 v = ipv4;
                    if (v != null) {
                        v.sendIcmpError(skb, 3, code, 0);
                    }
                }

                @Override
                public void reset(SkBuff skb, int nh, int th) {
                    // tcp reset needs nf_send_reset; iptables' REJECT has it, nft's is not wired yet: drop only
                }
            };
            return r;
        });
    }

    /** nft in {@code ns} without a shell: its output lines, or a CommandException in nft's words. */
    public List<String> run(NetNamespace ns, String... args) throws IOException {
        boolean handles = false;
        String file = null;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (text.isEmpty() && (a.equals("-a") || a.equals("--handle"))) {
                handles = true;
            } else if (text.isEmpty() && (a.equals("-f") || a.equals("--file"))) {
                if (i + 1 >= args.length) {
                    throw new CommandException("nft: option requires an argument -- 'f'", 1);
                }
                file = args[++i];
            } else if (text.isEmpty() && a.startsWith("-") && !a.equals("-")) {
                throw new CommandException("nft: invalid option -- '" + a.substring(1) + "'", 1);
            } else if (!a.isEmpty()) {
                text.append(text.isEmpty() ? "" : " ").append(a);
            }
        }
        if (file != null) {
            String content;
            if (file.equals("-")) {
                content = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
            } else {
                try {
                    content = Files.readString(Path.of(file));
                } catch (IOException e) {
                    throw new CommandException("Error: Could not process rule: No such file or directory\n" + file, 1);
                }
            }
            return Nft.run(ruleset(ns), content, handles);
        }
        if (text.isEmpty()) {
            return List.of();
        }
        return Nft.run(ruleset(ns), text.toString(), handles);
    }

    public void nft(CommandSession session, String... args) throws IOException {
        args = Commands.words(session, args);
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        NetNamespace ns = Commands.namespace(core, netns, "nft");
        for (String l : run(ns, args)) {
            System.out.println(l);
        }
    }
}
