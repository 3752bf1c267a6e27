/*
 * LANrage web UI.  Talks only to its own origin (proto/api.md, "HTTP");
 * changes carry the page's secret.  Every string from the server goes
 * into the page as text, never as markup.
 */
'use strict';

const SECRET = document.querySelector('meta[name="lanrage-secret"]').content;
const HISTORY = 300;		/* samples the charts keep */
const COLORS = ['#ff4f5e', '#3ccf7a', '#4fa3ff', '#f0b429', '#c77dff',
	'#2ec4b6', '#ff8fab', '#a0c4ff'];

const state = { status: null, peers: [], sample: null,
	series: { t: [], cpu: [], rss: [], rx: [], tx: [], rtt: {} } };

const $ = (id) => document.getElementById(id);

function showError(text) {
	const e = $('error');
	e.textContent = text;
	e.hidden = !text;
}

async function api(method, path, body) {
	const opts = { method, headers: {} };
	if (method === 'POST') {
		opts.headers['X-LANrage-Secret'] = SECRET;
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body || {});
	}
	let answer;
	try {
		const r = await fetch(path, opts);
		answer = await r.json();
	} catch (err) {
		showError('lanraged does not answer: ' + err.message);
		throw err;
	}
	if (!answer.ok) {
		showError(answer.error + ' (' + answer.code + ')');
		throw new Error(answer.error);
	}
	showError('');
	return answer.result;
}

function cell(row, text, cls) {
	const td = document.createElement('td');
	td.textContent = text === null || text === undefined ? '' : String(text);
	if (cls)
		td.className = cls;
	row.appendChild(td);
	return td;
}

function fixed(v, digits) {
	return typeof v === 'number' ? v.toFixed(digits) : '';
}

/* ---- the party card and header ---- */

function renderStatus(st) {
	state.status = st;
	$('node-name').textContent = st.node ? st.node.name : '';
	const cs = st.control ? st.control.state : 'unknown';
	$('control-state').textContent = 'control: ' + cs;
	$('control-state').className = 'badge' + (cs === 'connected' ? ' ok' : '');
	const p = st.party;
	$('no-party').hidden = !!p;
	$('in-party').hidden = !p;
	if (!p)
		return;
	$('party-title').textContent = p.name || '';
	$('party-address').textContent = p.address || '';
	$('close-button').hidden = !p.host;
	renderRequests(st.requests || []);
}

function renderRequests(reqs) {
	const ul = $('requests');
	ul.replaceChildren();
	for (const r of reqs) {
		const li = document.createElement('li');
		li.textContent = r.name + ' asks to join ';
		for (const accept of [true, false]) {
			const b = document.createElement('button');
			b.textContent = accept ? 'Accept' : 'Deny';
			b.addEventListener('click', () => api('POST',
			    '/api/v1/party/approve', { peer: r.public_key, accept })
			    .catch(() => {}));
			li.appendChild(b);
		}
		ul.appendChild(li);
	}
}

/* ---- members ---- */

function memberRow(p, host) {
	const tr = document.createElement('tr');
	tr.dataset.peer = p.public_key;
	const q = state.sample && state.sample.peers &&
	    state.sample.peers[p.public_key];
	cell(tr, p.name);
	cell(tr, p.address);
	cell(tr, p.path, 'path path-' + p.path);
	cell(tr, p.reason);
	cell(tr, fixed(p.rtt_ms, 1), 'rtt');
	cell(tr, fixed(p.jitter_ms, 1));
	cell(tr, p.loss_pct);
	cell(tr, q ? q.quality : '', 'quality');
	const dot = document.createElement('span');
	dot.className = 'dot' + (p.online ? ' on' : '');
	cell(tr, '').appendChild(dot);
	const td = cell(tr, '');
	if (host) {
		const b = document.createElement('button');
		b.textContent = 'Kick';
		b.addEventListener('click', () => api('POST', '/api/v1/party/kick',
		    { peer: p.public_key }).catch(() => {}));
		td.appendChild(b);
	}
	return tr;
}

function renderPeers(peers) {
	state.peers = peers;
	const host = !!(state.status && state.status.party &&
	    state.status.party.host);
	$('members').tBodies[0].replaceChildren(...peers.map(
	    (p) => memberRow(p, host)));
}

/* ---- charts ---- */

function push(arr, v) {
	arr.push(v);
	if (arr.length > HISTORY)
		arr.shift();
}

function addSample(s) {
	const se = state.series;
	if (se.t.length && se.t[se.t.length - 1] === s.t)
		return;
	push(se.t, s.t);
	push(se.cpu, s.cpu_pct);
	push(se.rss, s.rss_bytes / 1048576);
	push(se.rx, s.rx_bps / 1e6);
	push(se.tx, s.tx_bps / 1e6);
	for (const key of Object.keys(se.rtt))
		if (!s.peers[key])
			push(se.rtt[key].v, null);
	for (const [key, p] of Object.entries(s.peers || {})) {
		if (!se.rtt[key])
			se.rtt[key] = { name: p.name, v: new Array(se.t.length - 1)
			    .fill(null) };
		se.rtt[key].name = p.name;
		push(se.rtt[key].v, p.rtt_ms);
	}
}

/* A line chart of lines [{name, v: [number|null]}], gaps for nulls. */
function drawChart(canvas, lines) {
	const dpr = window.devicePixelRatio || 1;
	const w = canvas.clientWidth || 400, h = canvas.clientHeight || 180;
	canvas.width = w * dpr;
	canvas.height = h * dpr;
	const c = canvas.getContext('2d');
	c.scale(dpr, dpr);
	c.clearRect(0, 0, w, h);
	let max = 0;
	for (const l of lines)
		for (const v of l.v)
			if (typeof v === 'number' && v > max)
				max = v;
	max = max > 0 ? max * 1.15 : 1;
	const left = 40, bottom = h - 18, top = 8, right = w - 8;
	c.strokeStyle = '#333a48';
	c.fillStyle = '#8a90a0';
	c.font = '11px sans-serif';
	for (let i = 0; i <= 4; i++) {
		const y = bottom - (bottom - top) * i / 4;
		c.beginPath();
		c.moveTo(left, y);
		c.lineTo(right, y);
		c.stroke();
		c.fillText((max * i / 4).toPrecision(3), 2, y + 4);
	}
	lines.forEach((l, k) => {
		const n = l.v.length;
		c.strokeStyle = COLORS[k % COLORS.length];
		c.beginPath();
		let pen = false;
		l.v.forEach((v, i) => {
			if (typeof v !== 'number') {
				pen = false;
				return;
			}
			const x = left + (right - left) * (n < 2 ? 1 : i / (n - 1));
			const y = bottom - (bottom - top) * v / max;
			if (pen)
				c.lineTo(x, y);
			else
				c.moveTo(x, y);
			pen = true;
		});
		c.stroke();
		c.fillStyle = c.strokeStyle;
		c.fillText(l.name, left + 6 + k * 80, h - 4);
	});
}

function drawCharts() {
	const se = state.series;
	drawChart($('chart-rtt'), Object.values(se.rtt));
	drawChart($('chart-net'), [{ name: 'rx', v: se.rx },
	    { name: 'tx', v: se.tx }]);
	drawChart($('chart-cpu'), [{ name: 'CPU %', v: se.cpu },
	    { name: 'MiB', v: se.rss }]);
}

async function seedCharts() {
	const h = await api('GET', '/api/v1/metrics?seconds=' + HISTORY);
	const se = state.series;
	se.t = h.t.slice();
	se.cpu = h.cpu_pct.slice();
	se.rss = h.rss_bytes.map((v) => v / 1048576);
	se.rx = h.rx_bps.map((v) => v / 1e6);
	se.tx = h.tx_bps.map((v) => v / 1e6);
	for (const [key, p] of Object.entries(h.peers))
		se.rtt[key] = { name: p.name, v: p.rtt_ms.slice() };
	drawCharts();
}

/* ---- key/value tables: netcheck, settings ---- */

function renderNetcheck(nc) {
	const body = $('netcheck').tBodies[0];
	body.replaceChildren();
	for (const [k, v] of Object.entries(nc || {})) {
		const tr = document.createElement('tr');
		cell(tr, k);
		cell(tr, typeof v === 'object' && v !== null ? JSON.stringify(v) : v);
		body.appendChild(tr);
	}
}

async function loadSettings() {
	const s = await api('GET', '/api/v1/settings');
	const body = $('settings').tBodies[0];
	body.replaceChildren();
	for (const [k, v] of Object.entries(s)) {
		const tr = document.createElement('tr');
		cell(tr, k);
		const input = document.createElement('input');
		input.value = v;
		cell(tr, '').appendChild(input);
		const b = document.createElement('button');
		b.textContent = 'Save';
		b.addEventListener('click', () => api('POST', '/api/v1/settings',
		    { key: k, value: input.value }).then(loadSettings,
		    () => {}));
		cell(tr, '').appendChild(b);
		body.appendChild(tr);
	}
}

/* ---- actions ---- */

function on(id, fn) {
	$(id).addEventListener('click', () => fn().catch(() => {}));
}

async function refresh() {
	renderStatus(await api('GET', '/api/v1/status'));
	renderPeers((await api('GET', '/api/v1/peers')).peers);
}

on('create-button', async () => {
	await api('POST', '/api/v1/party', { name: $('party-name').value });
	await refresh();
});
on('join-button', async () => {
	await api('POST', '/api/v1/party/join',
	    { invite: $('join-link').value.trim() });
	await refresh();
});
on('invite-button', async () => {
	const r = await api('POST', '/api/v1/invite', {});
	$('invite-link').value = r.link;
});
on('copy-button', async () => {
	const input = $('invite-link');
	if (navigator.clipboard)
		await navigator.clipboard.writeText(input.value);
	else {
		input.select();
		document.execCommand('copy');
	}
});
on('leave-button', async () => {
	await api('POST', '/api/v1/party/leave', {});
	await refresh();
});
on('close-button', async () => {
	await api('POST', '/api/v1/party/close', {});
	await refresh();
});
on('netcheck-button', async () => {
	renderNetcheck(await api('POST', '/api/v1/netcheck', {}));
});

/* ---- live ---- */

function live() {
	const es = new EventSource('/api/v1/events');
	es.addEventListener('update', (ev) => {
		const u = JSON.parse(ev.data);
		$('live').textContent = 'live';
		$('live').className = 'badge ok';
		state.sample = u.sample;
		renderStatus(u.status);
		renderPeers(u.peers.peers);
		if (u.status.netcheck)
			renderNetcheck(u.status.netcheck);
		if (u.sample) {
			addSample(u.sample);
			drawCharts();
		}
	});
	es.addEventListener('error', () => {
		$('live').textContent = 'disconnected';
		$('live').className = 'badge';
	});
}

refresh().catch(() => {});
seedCharts().catch(() => {});
loadSettings().catch(() => {});
live();
