package org.modnet.core;

import java.util.List;
import java.util.Map;

import org.modnet.api.net.Eth;
import org.modnet.api.net.Jiffies;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.net.SoftnetStat;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The core as a service. Packet handlers ({@code dev_add_pack}) and per-namespace operations of the
 * layers are dynamic references: a protocol bundle that starts or stops changes the path at once.
 * Framework properties: {@code modnet.cpus} (softirq threads, default the processors, at most 8),
 * {@code modnet.hz} (the jiffy, {@link Jiffies}: 100, 250 by default, 300 or 1000),
 * {@code modnet.skb.buffers} and {@code modnet.skb.size} (the packet pool). Configuration Admin PID
 * {@code org.modnet.sysctl} (a feature may carry it): sysctl names to values for every namespace;
 * deleting it puts those sysctls back to their defaults.
 */
@Component(service = { NetCore.class, org.modnet.api.handover.StateHolder.class, org.modnet.api.sched.QdiscHook.class,
        org.modnet.api.netfilter.NfIngress.class }, immediate = true,
        configurationPid = SysctlConf.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class NetCoreComponent implements NetCore, org.modnet.api.handover.StateHolder, org.modnet.api.sched.QdiscHook,
        org.modnet.api.netfilter.NfIngress {
    private final CoreEngine engine;

    @Activate
    public NetCoreComponent(BundleContext context, Map<String, Object> properties) {
        int hz = Jiffies.hz(context.getProperty(Jiffies.PROPERTY)); // refuses a value that is no CONFIG_HZ, by name
        if (hz != Jiffies.HZ) {
            throw new IllegalArgumentException(Jiffies.PROPERTY + "=" + hz + " is a framework property only: the jiffy is "
                    + Jiffies.HZ + "; set it on the JVM's command line (-D" + Jiffies.PROPERTY + "=" + hz + ")");
        }
        int cpus = intProperty(context, "modnet.cpus", Math.min(8, Runtime.getRuntime().availableProcessors()));
        int buffers = intProperty(context, "modnet.skb.buffers", 16384);
        int size = intProperty(context, "modnet.skb.size", 2048);
        this.engine = new CoreEngine(Math.max(1, cpus), true, new SkBuffPool(buffers, size), System::nanoTime);
        engine.configureSysctls(SysctlConf.sysctls(properties));
    }

    /** The sysctl configuration changed or was deleted (then only DS's own properties remain). */
    @Modified
    void modified(Map<String, Object> properties) {
        engine.configureSysctls(SysctlConf.sysctls(properties));
    }

    private static int intProperty(BundleContext context, String key, int fallback) {
        String v = context.getProperty(key);
        try {
            return v == null ? fallback : Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    @Override
    public org.modnet.api.sched.Qdisc qdisc(NetDevice dev) {
        return engine.qdisc(dev);
    }

    @Override
    public boolean isDefault(NetDevice dev) {
        return engine.isDefault(dev);
    }

    @Override
    public org.modnet.api.sched.Qdisc graft(NetDevice dev, org.modnet.api.sched.Qdisc q) {
        return engine.graft(dev, q);
    }

    @Override
    public org.modnet.api.sched.Qdisc graftMulti(NetDevice dev, org.modnet.api.sched.Qdisc root,
            java.util.List<org.modnet.api.sched.Qdisc> children) throws org.modnet.api.net.NetException {
        return engine.graftMulti(dev, root, children);
    }

    @Override
    public org.modnet.api.sched.Qdisc graftTx(NetDevice dev, int index, org.modnet.api.sched.Qdisc q)
            throws org.modnet.api.net.NetException {
        return engine.graftTx(dev, index, q);
    }

    @Override
    public org.modnet.api.sched.Qdisc txQdisc(NetDevice dev, int index) {
        return engine.txQdisc(dev, index);
    }

    @Override
    public void schedule(NetDevice dev) {
        engine.schedule(dev);
    }

    @Override
    public org.modnet.api.sched.TcHook attachTc(NetDevice dev, boolean ingress, org.modnet.api.sched.TcHook hook) {
        return engine.attachTc(dev, ingress, hook);
    }

    @Override
    public org.modnet.api.sched.TcHook tcHook(NetDevice dev, boolean ingress) {
        return engine.tcHook(dev, ingress);
    }

    @Override
    public org.modnet.api.netfilter.NfIngress.Hook attachIngress(NetDevice dev, org.modnet.api.netfilter.NfIngress.Hook hook) {
        return engine.attachIngress(dev, hook);
    }

    @Override
    public org.modnet.api.netfilter.NfIngress.Hook ingressHook(NetDevice dev) {
        return engine.ingressHook(dev);
    }

    @Deactivate
    void deactivate() {
        engine.shutdown();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPacketHandler(PacketHandler handler, Map<String, Object> props) {
        engine.addHandler(ethertype(props), handler);
    }

    void removePacketHandler(PacketHandler handler, Map<String, Object> props) {
        engine.removeHandler(ethertype(props), handler);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPacketOffload(org.modnet.api.net.PacketOffload offload, Map<String, Object> props) {
        engine.addOffload(ethertype(props), offload);
    }

    void removePacketOffload(org.modnet.api.net.PacketOffload offload, Map<String, Object> props) {
        engine.removeOffload(ethertype(props), offload);
    }

    private static int ethertype(Map<String, Object> props) {
        Object v = props.get(PacketHandler.ETHERTYPE);
        if (v instanceof Number n) {
            return n.intValue();
        }
        String s = String.valueOf(v).strip();
        return s.startsWith("0x") ? Integer.parseInt(s.substring(2), 16) : s.equals("all") ? Eth.ETH_P_ALL : Integer.parseInt(s);
    }

    /** The qdisc families {@code net.core.default_qdisc} may name (the sched bundle's). */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addQdiscFamily(org.modnet.api.sched.QdiscOps ops, Map<String, Object> props) {
        Object kind = props.get(org.modnet.api.sched.QdiscOps.KIND);
        if (kind != null) {
            engine.defaultQdisc().addFamily(kind.toString(), ops);
        }
    }

    void removeQdiscFamily(org.modnet.api.sched.QdiscOps ops, Map<String, Object> props) {
        Object kind = props.get(org.modnet.api.sched.QdiscOps.KIND);
        if (kind != null) {
            engine.defaultQdisc().removeFamily(kind.toString(), ops);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPernet(PernetOperations ops, Map<String, Object> props) {
        engine.addPernet(ops, props.get(PernetOperations.ORDER) instanceof Number n ? n.intValue() : 100);
    }

    void removePernet(PernetOperations ops) {
        engine.removePernet(ops);
    }

    // --- the holder of the layers' tables across their updates ---

    @Override
    public void deposit(org.modnet.api.handover.TableState state) {
        engine.tables().deposit(state);
    }

    /** A deposit whose tables still change after the old version's deactivation: {@link #take} asks {@code latest}. */
    @Override
    public void deposit(org.modnet.api.handover.TableState now, java.util.function.Supplier<org.modnet.api.handover.TableState> latest) {
        engine.tables().deposit(now, latest);
    }

    @Override
    public org.modnet.api.handover.TableState take(String layer) {
        return engine.tables().take(layer);
    }

    @Override
    public void depositHeld(String layer, List<org.modnet.api.skb.SkBuff> packets) {
        engine.tables().depositHeld(layer, packets);
    }

    @Override
    public List<org.modnet.api.skb.SkBuff> takeHeld(String layer) {
        return engine.tables().takeHeld(layer);
    }

    @Override
    public void refuse(org.modnet.api.handover.TableState state, String why) {
        engine.tables().refuse(state, why);
    }

    @Override
    public Map<String, Long> counters() {
        return engine.tables().counters();
    }

    @Override
    public NetNamespace initNet() {
        return engine.initNet();
    }

    @Override
    public NetNamespace namespace(String name) {
        return engine.namespace(name);
    }

    @Override
    public List<NetNamespace> namespaces() {
        return engine.namespaces();
    }

    @Override
    public NetNamespace addNamespace(String name) throws NetException {
        return engine.addNamespace(name);
    }

    @Override
    public void deleteNamespace(String name) throws NetException {
        engine.deleteNamespace(name);
    }

    @Override
    public int cpus() {
        return engine.cpus();
    }

    @Override
    public List<SoftnetStat> softnetStats() {
        return engine.softnetStats();
    }

    @Override
    public void netifReceiveSkb(SkBuff skb) {
        engine.netifReceiveSkb(skb);
    }

    @Override
    public void devQueueXmit(SkBuff skb) {
        engine.devQueueXmit(skb);
    }

    @Override
    public int devQueueXmitStatus(SkBuff skb) {
        return engine.devQueueXmitStatus(skb);
    }

    @Override
    public SkBuffPool pool() {
        return engine.pool();
    }

    @Override
    public SkBuff allocSkb(int len, int headroom) {
        return engine.allocSkb(len, headroom);
    }

    @Override
    public int currentCpu() {
        return engine.currentCpu();
    }

    @Override
    public int currentNapiId() {
        return engine.currentNapiId();
    }

    @Override
    public void napiBusyLoop(int napiId, java.util.function.BooleanSupplier loopEnd, long nanos) {
        engine.napiBusyLoop(napiId, loopEnd, nanos);
    }

    @Override
    public boolean enqueueToBacklog(SkBuff skb, int cpu) {
        return engine.enqueueToBacklog(skb, cpu);
    }

    @Override
    public boolean enqueueToBacklog(SkBuff skb, int cpu, java.util.function.Predicate<SkBuff> first) {
        return engine.enqueueToBacklog(skb, cpu, first);
    }

    @Override
    public org.modnet.api.net.Timer timer(int cpu, Runnable function) {
        return engine.timer(cpu, function);
    }

    @Override
    public org.modnet.api.net.Timer hrtimer(int cpu, Runnable function) {
        return engine.hrtimer(cpu, function);
    }

    @Override
    public long nanoTime() {
        return engine.nanoTime();
    }
}
