// Live updates of a processing commit: the page opened with the commit's state; this follows the
// server-sent events until the commit settles, then reloads once to show the final report.
(function () {
  'use strict';
  var status = document.getElementById('commit-status');
  if (!status || !status.dataset.events || typeof EventSource === 'undefined') return;
  var state = document.getElementById('commit-state');
  var source = new EventSource(status.dataset.events);
  source.addEventListener('commit', function (event) {
    var data = JSON.parse(event.data);
    state.textContent = data.state;
    state.className = 'state state-' + data.state;
    data.uploads.forEach(function (u) {
      var row = document.getElementById('upload-' + u.uploadId);
      if (!row) return;
      var cell = row.querySelector('[data-upload-state]');
      if (cell) {
        cell.textContent = u.state;
        cell.className = 'state state-' + u.state;
      }
      var error = row.querySelector('[data-upload-error]');
      if (error) error.textContent = u.error ? u.error.code + ': ' + u.error.message : '';
    });
    if (data.state === 'complete' || data.state === 'cancelled') {
      source.close();
      location.reload();
    }
  });
})();
