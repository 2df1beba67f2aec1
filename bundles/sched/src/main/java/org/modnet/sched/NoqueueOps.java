package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code noqueue} family: no queue, straight to the driver. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=noqueue")
public final class NoqueueOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchNoqueue(env, args);
    }
}
