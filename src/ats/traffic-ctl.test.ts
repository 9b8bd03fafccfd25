import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDescribe } from './traffic-ctl.js';

describe('parseDescribe', () => {
  test('reads name, data type, update type, value and default of each record', () => {
    const text = `Name            : proxy.config.http.cache.http
Current Value   : 0
Default Value   : 1
Record Type     : standard config
Data Type       : INT
Update Type     : dynamic, no restart
Syntax Check    : integer with a specified range
Name            : proxy.config.http.server_ports
Current Value   : 18181:ip-in=127.0.0.1 18443:ssl:ip-in=127.0.0.1
Default Value   : 8080 8080:ipv6
Data Type       : STRING
Update Type     : static, restart traffic_manager
Name            : proxy.config.diags.debug.tags
Current Value   : 
Default Value   : http|dns
Data Type       : STRING
Update Type     : dynamic, no restart
`;
    assert.deepEqual([...parseDescribe(text).values()], [
      { name: 'proxy.config.http.cache.http', dataType: 'INT', update: 'dynamic', current: '0', default: '1' },
      { name: 'proxy.config.http.server_ports', dataType: 'STRING', update: 'restart traffic_manager', current: '18181:ip-in=127.0.0.1 18443:ssl:ip-in=127.0.0.1', default: '8080 8080:ipv6' },
      { name: 'proxy.config.diags.debug.tags', dataType: 'STRING', update: 'dynamic', current: '', default: 'http|dns' },
    ]);
  });
});
