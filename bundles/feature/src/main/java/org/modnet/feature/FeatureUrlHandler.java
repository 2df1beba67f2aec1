package org.modnet.feature;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.url.AbstractURLStreamHandlerService;
import org.osgi.service.url.URLConstants;
import org.osgi.service.url.URLStreamHandlerService;

/**
 * The {@code feature:} URL scheme of the bundles a feature installs ({@code feature:file:/.../repo/x.jar}):
 * opening one opens the URL after the prefix. Felix's {@code update ID} without a URL reads the bundle
 * again from its location, so with this a feature's bundle is updated from the jar in the repository
 * folder (a rebuilt one, after {@code mvn package}) as a launcher-started bundle is from its file.
 */
@Component(service = URLStreamHandlerService.class, property = URLConstants.URL_HANDLER_PROTOCOL + "="
        + FeatureUrlHandler.SCHEME)
public final class FeatureUrlHandler extends AbstractURLStreamHandlerService {
    static final String SCHEME = "feature";

    @Override
    public URLConnection openConnection(URL u) throws IOException {
        String inner = u.toExternalForm().substring(SCHEME.length() + 1);
        try {
            return new URI(inner).toURL().openConnection();
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IOException("feature: bad bundle location " + u + ": " + e.getMessage(), e);
        }
    }
}
