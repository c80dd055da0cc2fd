import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Starts DynamoDB Local bound to 127.0.0.1 only. The jar's own launcher binds
 * every interface, so this builds the same server, sets the host of its Jetty
 * connector before starting it, and prints the port it listens on.
 * Everything goes through reflection so that only java.base is needed to compile.
 * It exits when its standard input closes, so it never outlives the process that started it,
 * even one killed by a signal.
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class)
        .invoke(null, (Object) args);
    Field field = proxy.getClass().getDeclaredField("server");
    field.setAccessible(true);
    Object jetty = field.get(proxy);
    Object[] connectors = (Object[]) jetty.getClass().getMethod("getConnectors").invoke(jetty);
    for (Object connector : connectors) {
      connector.getClass().getMethod("setHost", String.class).invoke(connector, "127.0.0.1");
    }
    proxy.getClass().getMethod("start").invoke(proxy);
    for (Object connector : connectors) {
      Method localPort = connector.getClass().getMethod("getLocalPort");
      System.out.println("LISTENING 127.0.0.1:" + localPort.invoke(connector));
    }
    System.out.flush();
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // nothing is ever sent: only the end of the stream matters
        }
      } catch (java.io.IOException ignored) {
        // a broken pipe means the parent is gone too
      }
      Runtime.getRuntime().halt(0);
    });
    watchdog.setDaemon(true);
    watchdog.start();
  }
}
