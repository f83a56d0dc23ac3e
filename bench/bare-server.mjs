// A bare ocpp-rpc server that stores nothing: the yardstick the appliance is measured against.
// Plain JavaScript, like the built appliance, so neither pays for a TypeScript loader.
import { createServer } from 'node:http';
import ocppRpc from 'ocpp-rpc';

const { RPCServer } = ocppRpc;
const port = Number(process.argv[2] ?? 0);
const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
let tx = 0;
server.on('client', (client) => {
  client.handle(({ method }) => {
    const now = new Date().toISOString();
    switch (method) {
      case 'BootNotification': return { status: 'Accepted', currentTime: now, interval: 300 };
      case 'Heartbeat': return { currentTime: now };
      case 'StartTransaction': return { transactionId: ++tx, idTagInfo: { status: 'Accepted' } };
      case 'StopTransaction': case 'Authorize': return { idTagInfo: { status: 'Accepted' } };
      default: return {};
    }
  });
});
const http = createServer();
http.on('upgrade', server.handleUpgrade);
http.listen(port, '127.0.0.1', () => {
  const address = http.address();
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
